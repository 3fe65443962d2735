#include "inkwell/classify/sharded_output.hpp"

#include "inkwell/core/error.hpp"

namespace inkwell {

ShardedOutput::ShardedOutput(Communicator& comm, std::function<void(const Prediction&)> write, std::atomic<bool>& stop)
    : comm_(comm), write_(std::move(write)), stop_(stop), ended_(static_cast<size_t>(comm.size())) {}

void ShardedOutput::batch(int64_t seq, std::span<const Prediction> rows) {
  if (comm_.rank() != 0) {
    BatchMessage m{BatchMessage::rows, seq, {rows.begin(), rows.end()}, 0, false};
    comm_.send(0, encode(m));
    if (comm_.message_waiting(0) && receive(0).kind == BatchMessage::stop) stop_ = true;
    return;
  }
  write_up_to(seq);
  if (cut_) return;  // after the end of the output: --resume classifies it again
  for (const Prediction& p : rows) write_(p);
  next_ = seq + 1;
}

void ShardedOutput::finish(const ClassifyStats& own) {
  if (comm_.rank() != 0) {
    comm_.send(0, encode(BatchMessage{BatchMessage::end, 0, {}, own.batches, own.walked_all}));
    while (receive(0).kind != BatchMessage::done) {  // a `stop` sent before rank 0 had our `end`
    }
    return;
  }
  write_up_to(own.batches);  // every batch rank 0's walk numbered
  if (!own.walked_all) cut();
  for (int r = 1; r < comm_.size(); ++r) {
    while (!ended_[r]) {
      const BatchMessage m = receive(r);
      if (m.kind == BatchMessage::rows && !cut_)
        throw error("rank ", r, " classified batch ", m.seq, " of a walk of ", own.batches,
                    " batches: the ranks saw different files (was the tree changed during the run?)");
    }
    comm_.send(r, encode(BatchMessage::signal(BatchMessage::done)));
  }
}

// Rank 0: the other ranks' batches from next_ up to (not including) `seq`.
void ShardedOutput::write_up_to(int64_t seq) {
  for (; !cut_ && next_ < seq; ++next_) {
    const int owner = static_cast<int>(next_ % comm_.size());
    if (owner == 0) throw error("batch ", next_, " is rank 0's own but was not written before batch ", seq);
    const BatchMessage m = receive(owner);
    if (m.kind == BatchMessage::end) {
      if (m.walked_all)
        throw error("rank ", owner, "'s walk ended after ", m.batches, " batches but rank 0's has batch ", next_,
                    ": the ranks saw different files (was the tree changed during the run?)");
      cut();
      return;
    }
    if (m.kind != BatchMessage::rows || m.seq != next_)
      throw error("rank ", owner, " sent batch ", m.seq, " where batch ", next_, " was due");
    for (const Prediction& p : m.predictions) write_(p);
  }
}

// The output ends at next_: every rank still classifying is asked to stop.
void ShardedOutput::cut() {
  if (cut_) return;
  cut_ = true;
  stop_ = true;
  for (int r = 1; r < comm_.size(); ++r)
    if (!ended_[r]) comm_.send(r, encode(BatchMessage::signal(BatchMessage::stop)));
}

BatchMessage ShardedOutput::receive(int from) {
  BatchMessage m = decode(comm_.receive(from));
  if (m.kind == BatchMessage::end) ended_[from] = true;
  return m;
}

}  // namespace inkwell
