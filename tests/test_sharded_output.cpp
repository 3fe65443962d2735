// Sharded classification's exchange (sharded_output.hpp), with ranks as threads of this process
// talking through in-memory queues: rank 0 writes every batch in walk order; a rank that stops
// early ends the output at its first missing batch and stops the others, without a hang; ranks
// that saw different walks are an error. And the messages (batch_message.hpp) round-trip and
// refuse bytes that are not one whole message.
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "inkwell/classify/sharded_output.hpp"
#include "inkwell/core/error.hpp"

namespace inkwell {
namespace {

// N ranks in one process: a queue of messages for each (from, to) pair.
class Queues {
 public:
  explicit Queues(int size) : size_(size) {}
  int size() const { return size_; }
  void push(int from, int to, std::span<const char> bytes) {
    std::lock_guard lock(mutex_);
    queues_[{from, to}].emplace_back(bytes.begin(), bytes.end());
    changed_.notify_all();
  }
  std::vector<char> pop(int from, int to) {
    std::unique_lock lock(mutex_);
    auto& q = queues_[{from, to}];
    // A rank waiting 10 s here has hung: fail rather than block the test run.
    if (!changed_.wait_for(lock, std::chrono::seconds(10), [&] { return !q.empty() || aborted_; }))
      throw error("rank ", to, " waited 10 s for a message from rank ", from);
    if (aborted_) throw error("aborted");
    std::vector<char> m = std::move(q.front());
    q.pop_front();
    return m;
  }
  bool waiting(int from, int to) {
    std::lock_guard lock(mutex_);
    return !queues_[{from, to}].empty();
  }
  void abort() {  // as MPI_Abort: every rank waiting for a message stops waiting
    std::lock_guard lock(mutex_);
    aborted_ = true;
    changed_.notify_all();
  }
  size_t unread() {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (const auto& [pair, q] : queues_) n += q.size();
    return n;
  }

 private:
  int size_;
  bool aborted_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::pair<int, int>, std::deque<std::vector<char>>> queues_;
};

class FakeRank final : public Communicator {
 public:
  FakeRank(Queues& queues, int rank) : queues_(queues), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return queues_.size(); }
  int local_size() const override { return queues_.size(); }
  void sum(std::span<float>) override { FAIL() << "not used by the exchange"; }
  void sum(std::span<double>) override { FAIL() << "not used by the exchange"; }
  void start_sum(std::span<float>) override { FAIL() << "not used by the exchange"; }
  void poll() override { FAIL() << "not used by the exchange"; }
  void finish_sums() override { FAIL() << "not used by the exchange"; }
  void broadcast(std::span<float>) override { FAIL() << "not used by the exchange"; }
  void broadcast(std::span<int64_t>) override { FAIL() << "not used by the exchange"; }
  void broadcast(std::vector<char>&) override { FAIL() << "not used by the exchange"; }
  void send(int to, std::span<const char> bytes) override { queues_.push(rank_, to, bytes); }
  std::vector<char> receive(int from) override { return queues_.pop(from, rank_); }
  bool message_waiting(int from) override { return queues_.waiting(from, rank_); }
  [[noreturn]] void abort(int) override { std::abort(); }
  std::string describe() const override { return "fake"; }

 private:
  Queues& queues_;
  int rank_;
};

// Batch k of the walk holds k % 3 + 1 rows named "k.r" (a short batch now and then, as a last one).
std::vector<Prediction> rows_of(int64_t k) {
  std::vector<Prediction> rows;
  for (int64_t r = 0; r <= k % 3; ++r)
    rows.push_back({std::to_string(k) + "." + std::to_string(r), r == 1 ? "corrupt PNG" : "", {int(k % 10)}, {0.5f}});
  return rows;
}

struct Walk {
  int64_t batches = 10;                 // the walk's batches as every rank sees them
  std::map<int, int64_t> stops_before;  // rank -> the batch it stops before (as on Ctrl-C)
  std::map<int, int64_t> sees;          // rank -> the batches its walk has instead (a changed tree)
  int slow = -1;                        // a rank that takes 1 ms a batch (still running at the cut)
};

struct Outcome {
  std::vector<std::string> written;  // rank 0's rows, in order
  std::vector<bool> stopped;         // each rank's stop flag at the end
  std::vector<int64_t> numbered;     // the batches each rank's walk numbered
  std::string error;                 // rank 0's, if it threw
  size_t unread = 0;                 // messages nobody read
};

// Every rank runs what inkwell-classify runs around classify_batches: its own batches in order
// (round-robin), unless its stop flag is set, then finish().
Outcome run(int size, const Walk& walk) {
  Queues queues(size);
  Outcome out;
  out.stopped.assign(size, false);
  out.numbered.assign(size, 0);
  std::vector<std::atomic<bool>> stop(size);
  auto rank_body = [&](int rank) {
    FakeRank comm(queues, rank);
    ShardedOutput sharded(comm, [&](const Prediction& p) { out.written.push_back(p.path); }, stop[rank]);
    const int64_t batches = walk.sees.count(rank) ? walk.sees.at(rank) : walk.batches;
    ClassifyStats own;
    own.walked_all = true;
    for (int64_t seq = 0; seq < batches; ++seq) {
      if (walk.stops_before.count(rank) && seq == walk.stops_before.at(rank)) stop[rank] = true;
      if (stop[rank]) {
        own.walked_all = false;
        break;
      }
      ++own.batches;
      if (seq % size != rank) continue;
      if (rank == walk.slow) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      sharded.batch(seq, rows_of(seq));
    }
    sharded.finish(own);
    out.numbered[rank] = own.batches;
  };
  std::vector<std::future<void>> others;
  for (int r = 1; r < size; ++r) others.push_back(std::async(std::launch::async, rank_body, r));
  try {
    rank_body(0);
  } catch (const Error& e) {
    out.error = e.what();
    queues.abort();
    for (auto& f : others) f.wait();
    return out;
  }
  for (auto& f : others) f.get();
  for (int r = 0; r < size; ++r) out.stopped[r] = stop[r];
  out.unread = queues.unread();
  return out;
}

std::vector<std::string> rows_up_to(int64_t batches) {
  std::vector<std::string> all;
  for (int64_t k = 0; k < batches; ++k)
    for (const Prediction& p : rows_of(k)) all.push_back(p.path);
  return all;
}

TEST(ShardedOutput, RankZeroWritesEveryBatchInWalkOrder) {
  for (int size : {2, 3, 4})
    for (int64_t batches : {0, 1, 2, 5, 12}) {
      const Outcome out = run(size, {batches, {}, {}, -1});
      EXPECT_EQ(out.error, "");
      EXPECT_EQ(out.written, rows_up_to(batches)) << size << " ranks, " << batches << " batches";
      for (int r = 0; r < size; ++r) EXPECT_FALSE(out.stopped[r]) << "rank " << r;
      EXPECT_EQ(out.unread, 0u);
    }
}

TEST(ShardedOutput, ARankStoppingEarlyEndsTheOutputAtItsFirstMissingBatchAndStopsTheOthers) {
  // Rank 1 of 3 stops before batch 7 (its batches are 1, 4, 7, ...): the output holds 0..6.
  // Rank 2, slow, is still classifying then: it is told to stop, long before its walk's end.
  const Outcome out = run(3, {3000, {{1, 7}}, {}, 2});
  EXPECT_EQ(out.error, "");
  EXPECT_EQ(out.written, rows_up_to(7));
  EXPECT_TRUE(out.stopped[0]) << "rank 0 does not know the output is cut short";
  EXPECT_TRUE(out.stopped[2]) << "rank 2 was not stopped";
  EXPECT_LT(out.numbered[2], 3000);
  EXPECT_EQ(out.unread, 0u);
}

TEST(ShardedOutput, RankZeroStoppingEndsTheOutputAfterTheBatchesItNumbered) {
  // Rank 0 stops before batch 6: it numbered 0..5, and the others' among them are written.
  const Outcome out = run(2, {2000, {{0, 6}}, {}, 1});
  EXPECT_EQ(out.error, "");
  EXPECT_EQ(out.written, rows_up_to(6));
  EXPECT_TRUE(out.stopped[0] && out.stopped[1]);
  EXPECT_LT(out.numbered[1], 2000);
  EXPECT_EQ(out.unread, 0u);
}

TEST(ShardedOutput, RanksThatSawDifferentFilesAreAnError) {
  const Outcome shorter = run(2, {8, {}, {{1, 4}}, -1});  // rank 1's walk ends early but complete
  EXPECT_NE(shorter.error.find("the ranks saw different files"), std::string::npos) << shorter.error;
  const Outcome longer = run(2, {8, {}, {{1, 11}}, -1});  // rank 1 has batches rank 0 never numbered
  EXPECT_NE(longer.error.find("the ranks saw different files"), std::string::npos) << longer.error;
}

TEST(BatchMessage, RoundTripsEveryKind) {
  BatchMessage rows{BatchMessage::rows, 41, rows_of(2), 0, false};
  rows.predictions[0].path = std::string("a,\"b\"\n\0c.png", 12);
  rows.predictions[2].labels = {3, 1, 2};
  rows.predictions[2].probabilities = {0.5f, 0.25f, 0.125f};
  const BatchMessage back = decode(encode(rows));
  ASSERT_EQ(back.kind, BatchMessage::rows);
  EXPECT_EQ(back.seq, 41);
  ASSERT_EQ(back.predictions.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.predictions[i].path, rows.predictions[i].path);
    EXPECT_EQ(back.predictions[i].error, rows.predictions[i].error);
    EXPECT_EQ(back.predictions[i].labels, rows.predictions[i].labels);
    EXPECT_EQ(back.predictions[i].probabilities, rows.predictions[i].probabilities);
  }
  const BatchMessage end = decode(encode(BatchMessage{BatchMessage::end, 0, {}, 77, true}));
  EXPECT_EQ(end.kind, BatchMessage::end);
  EXPECT_EQ(end.batches, 77);
  EXPECT_TRUE(end.walked_all);
  EXPECT_EQ(decode(encode(BatchMessage::signal(BatchMessage::stop))).kind, BatchMessage::stop);
  EXPECT_EQ(decode(encode(BatchMessage::signal(BatchMessage::done))).kind, BatchMessage::done);
}

TEST(BatchMessage, RefusesBytesThatAreNotOneWholeMessage) {
  const std::vector<char> whole = encode(BatchMessage{BatchMessage::rows, 3, rows_of(2), 0, false});
  for (size_t n = 0; n < whole.size(); ++n)
    EXPECT_THROW(decode(std::span(whole.data(), n)), Error) << "cut to " << n << " bytes";
  std::vector<char> longer = whole;
  longer.push_back(0);
  EXPECT_THROW(decode(longer), Error);
  EXPECT_THROW(decode(std::vector<char>{7}), Error);  // no such kind
  // A row count of 2^32 - 1 in a short message: refused before anything is allocated for it.
  std::vector<char> huge = encode(BatchMessage{BatchMessage::rows, 3, {}, 0, false});
  std::fill(huge.end() - 4, huge.end(), char(0xff));
  EXPECT_THROW(decode(huge), Error);
}

}  // namespace
}  // namespace inkwell
