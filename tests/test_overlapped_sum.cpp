// Summing gradients during backward (overlapped_sum.hpp): each final range is started at once,
// MPI is polled after every op, and finish() sums what no op reported, so that the whole arena
// is summed exactly once a step, as one Communicator::sum would.
#include <gtest/gtest.h>

#include <algorithm>

#include "inkwell/dist/overlapped_sum.hpp"

namespace inkwell {
namespace {

// Records the calls; the sums themselves are MPI's (test_mpi.sh runs them for real).
class Recorder final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  int local_size() const override { return 1; }
  void sum(std::span<float>) override { ADD_FAILURE() << "a blocking sum"; }
  void sum(std::span<double>) override { ADD_FAILURE() << "a blocking sum"; }
  void start_sum(std::span<float> v) override {
    EXPECT_FALSE(finished) << "a sum started after finish_sums";
    started.push_back(v);
  }
  void poll() override { ++polls; }
  void finish_sums() override { finished = true; }
  void broadcast(std::span<float>) override {}
  void broadcast(std::span<int64_t>) override {}
  void broadcast(std::vector<char>&) override {}
  void send(int, std::span<const char>) override {}
  std::vector<char> receive(int) override { return {}; }
  bool message_waiting(int) override { return false; }
  [[noreturn]] void abort(int) override { std::abort(); }
  std::string describe() const override { return "recorder"; }

  std::vector<std::span<float>> started;
  int polls = 0;
  bool finished = false;
};

// Offsets of the spans started, sorted: [begin, end) into `base`.
std::vector<std::pair<size_t, size_t>> ranges(const Recorder& r, const float* base) {
  std::vector<std::pair<size_t, size_t>> out;
  for (const auto& s : r.started) out.emplace_back(s.data() - base, s.data() - base + s.size());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(OverlappedGradientSum, StartsEachFinalRangeAtOnceAndPollsAfterEveryOp) {
  std::vector<float> grads(100);
  Recorder comm;
  OverlappedGradientSum sum(comm, grads);
  sum.ready(60, 100);  // the last layer first
  EXPECT_EQ(comm.started.size(), 1u);
  sum.ready(0, 0);     // an op that wrote no gradients (a pool's backward)
  sum.ready(10, 60);
  EXPECT_EQ(comm.started.size(), 2u);
  EXPECT_EQ(comm.polls, 3);
  EXPECT_FALSE(comm.finished);
  sum.finish();  // [0, 10) was never reported (a frozen layer): summed now
  EXPECT_TRUE(comm.finished);
  EXPECT_EQ(ranges(comm, grads.data()), (std::vector<std::pair<size_t, size_t>>{{0, 10}, {10, 60}, {60, 100}}));
}

TEST(OverlappedGradientSum, SumsTheWholeArenaOnceEveryStep) {
  std::vector<float> grads(50);
  Recorder comm;
  OverlappedGradientSum sum(comm, grads);
  for (int step = 0; step < 3; ++step) {
    comm.started.clear();
    comm.finished = false;
    sum.ready(20, 30);  // only a middle layer reported: the gaps on both sides are summed at the end
    sum.finish();
    EXPECT_EQ(ranges(comm, grads.data()), (std::vector<std::pair<size_t, size_t>>{{0, 20}, {20, 30}, {30, 50}}))
        << "step " << step;
  }
}

}  // namespace
}  // namespace inkwell
