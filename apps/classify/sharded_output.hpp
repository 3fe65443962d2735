// `mpirun -np N inkwell-classify` (docs/distributed.md): every rank walks the same sorted tree and
// numbers the same batches; rank r classifies batches r, r+N, r+2N, ... (round-robin), and rank 0
// writes every row, in walk order, so the output is the one-process run's byte for byte.
//
// Ranks other than 0 send each batch to rank 0 as it is done (batch_message.hpp), then `end`.
// Rank 0 writes batch k once every batch before it is written: its own come from its flow graph
// in order; the others' it receives, in order, from their owners (MPI keeps one sender's messages
// in order). A rank that stops early (Ctrl-C, SIGTERM) sends `end` instead of its next batch: the
// output ends there, a prefix that --resume continues; rank 0 tells the ranks still going to
// stop, and reads (and drops) what they still send, up to their `end`. Rank 0 ends the exchange
// with `done` to every rank, so no message is left unread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "batch_message.hpp"
#include "inkwell/classify/classify.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/dist/communicator.hpp"

namespace inkwell::classify_app {

class ShardedOutput {
 public:
  // `write` (rank 0) writes one row; `stop` is set when the run must end early (this process's
  // Ctrl-C flag: the flow graph stops taking new batches).
  ShardedOutput(Communicator& comm, std::function<void(const Prediction&)> write, std::atomic<bool>& stop)
      : comm_(comm), write_(std::move(write)), stop_(stop), ended_(static_cast<size_t>(comm.size())) {}

  // This rank's batch `seq`, from the flow graph's serial output node.
  void batch(int64_t seq, std::span<const Prediction> rows) {
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

  // After the flow graph, with this rank's stats. Rank 0: writes the other ranks' batches after
  // its last one; if the output does not hold the whole walk, `stop` is set.
  void finish(const ClassifyStats& own) {
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

 private:
  // Rank 0: the other ranks' batches from next_ up to (not including) `seq`.
  void write_up_to(int64_t seq) {
    for (; !cut_ && next_ < seq; ++next_) {
      const int owner = static_cast<int>(next_ % comm_.size());
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
  void cut() {
    if (cut_) return;
    cut_ = true;
    stop_ = true;
    for (int r = 1; r < comm_.size(); ++r)
      if (!ended_[r]) comm_.send(r, encode(BatchMessage::signal(BatchMessage::stop)));
  }

  BatchMessage receive(int from) {
    BatchMessage m = decode(comm_.receive(from));
    if (m.kind == BatchMessage::end) ended_[from] = true;
    return m;
  }

  Communicator& comm_;
  std::function<void(const Prediction&)> write_;
  std::atomic<bool>& stop_;
  std::vector<bool> ended_;  // rank 0: which ranks have sent `end`
  int64_t next_ = 0;         // rank 0: the next batch to write
  bool cut_ = false;         // rank 0: the output ends at next_
};

}  // namespace inkwell::classify_app
