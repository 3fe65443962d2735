// The batch pipeline (flow graph): order, bound, early stop, errors; and training on it gives the
// same result as the serial loop.
#include <gtest/gtest.h>

#include <oneapi/tbb/task_arena.h>

#include <atomic>
#include <future>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include "inkwell/data/batch_pipeline.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/data/idx.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/train/optimizer.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/train/train.hpp"

namespace inkwell {
namespace {

// Batches are consumed in order, each after its own fill into its own slot, and never more than
// `depth` are between fill and the end of consume; fills run in parallel (uneven durations).
TEST(BatchPipeline, KeepsOrderAndItsBound) {
  for (int depth : {0, 1, 3, 8}) {
    const int slots = std::max(depth, 1);
    std::vector<int64_t> in_slot(slots, -1);
    std::vector<int64_t> consumed;
    std::atomic<int> in_flight{0}, most{0};
    std::mutex m;
    run_batches(5, 105, depth,
                [&](int64_t k, int slot) {
                  const int now = ++in_flight;
                  int prev = most.load();
                  while (now > prev && !most.compare_exchange_weak(prev, now)) {}
                  std::this_thread::sleep_for(std::chrono::microseconds(k % 7 * 100));
                  std::lock_guard lock(m);
                  ASSERT_EQ(in_slot[slot], -1) << "slot " << slot << " still holds batch " << in_slot[slot];
                  in_slot[slot] = k;
                },
                [&](int64_t k, int slot) {
                  std::lock_guard lock(m);
                  EXPECT_EQ(in_slot[slot], k);
                  in_slot[slot] = -1;
                  consumed.push_back(k);
                  --in_flight;
                  return true;
                });
    std::vector<int64_t> want(100);
    std::iota(want.begin(), want.end(), 5);
    EXPECT_EQ(consumed, want) << "depth " << depth;
    EXPECT_LE(most.load(), slots) << "depth " << depth;
  }
}

TEST(BatchPipeline, StopsWhenConsumeSaysSo) {
  std::vector<int64_t> consumed;
  std::atomic<int64_t> filled{0};
  run_batches(0, 1000, 4, [&](int64_t, int) { ++filled; }, [&](int64_t k, int) {
    consumed.push_back(k);
    return k < 9;
  });
  EXPECT_EQ(consumed.size(), 10u);
  EXPECT_LE(filled.load(), 14);  // at most depth more were planned
}

// With one CPU (taskset -c 0, a one-CPU container, an MPI rank bound to a core) oneTBB has no
// worker: the calling thread must fill the batches itself. It used to block forever.
TEST(BatchPipeline, FinishesInAOneThreadArena) {
  auto run = std::async(std::launch::async, [] {
    tbb::task_arena one_thread(1);
    std::vector<int64_t> consumed;
    one_thread.execute([&] {
      run_batches(0, 50, 4, [](int64_t, int) {}, [&](int64_t k, int) {
        consumed.push_back(k);
        return true;
      });
    });
    return consumed;
  });
  if (run.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    ADD_FAILURE() << "run_batches hangs in a one-thread arena";
    std::_Exit(1);  // the hung thread cannot be joined
  }
  std::vector<int64_t> want(50);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(run.get(), want);
}

TEST(BatchPipeline, RethrowsAFillErrorNamingTheFile) {
  std::atomic<int64_t> consumed{0};
  try {
    run_batches(0, 100, 4,
                [&](int64_t k, int) {
                  if (k == 37) throw error("train/7/00123.png: corrupt or truncated PNG");
                },
                [&](int64_t k, int) {
                  EXPECT_LT(k, 37);
                  ++consumed;
                  return true;
                });
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "train/7/00123.png: corrupt or truncated PNG");
  }
  EXPECT_LE(consumed.load(), 37);
  EXPECT_THROW(run_batches(0, 10, 2, [](int64_t, int) {}, [](int64_t k, int) -> bool {
                 if (k == 3) throw error("disk full");
                 return true;
               }),
               Error);
}

// Training on the pipeline (augmentation, dropout, batch norm, a short last batch) gives the
// same weights as decoding each batch serially before its step: fill(k) depends on k alone.
TEST(BatchPipeline, TrainingMatchesTheSerialLoop) {
  Dataset data;
  data.rows = data.cols = 28;
  data.classes = {"a", "b", "c"};
  Rng rng(3);
  for (int i = 0; i < 300; ++i) {
    data.labels.push_back(static_cast<uint8_t>(i % 3));
    for (int p = 0; p < 784; ++p) data.images.push_back(static_cast<uint8_t>(p % 28 == 9 * (i % 3) ? 255 : rng.below(40)));
  }
  std::vector<uint32_t> order(data.size());
  std::iota(order.begin(), order.end(), 0u);
  auto train = [&](int prefetch) {
    Model model(Architecture{"conv8k3p1-bn-relu-maxpool2-fc16-relu-dropout25-fc3", {1, 28, 28}}, 32, Mode::train);
    model.init_params(1);
    Optimizer opt({OptimizerConfig::Kind::adam}, model.params().size());
    for (int epoch = 0; epoch < 2; ++epoch) {
      EpochState st;
      EXPECT_TRUE(train_epoch(model, opt, data, order, {}, {Schedule::constant, 1e-3, 20}, st,
                              {.augment = true, .seed = 5, .prefetch = prefetch}));
      EXPECT_EQ(st.images, 300);  // the 20 fill-up rows of the short batch are not counted
    }
    return model.state();
  };
  const auto serial = train(0), piped = train(4);
  ASSERT_EQ(serial.size(), piped.size());
  for (size_t t = 0; t < serial.size(); ++t) EXPECT_EQ(serial[t].data, piped[t].data) << serial[t].name;
}

}  // namespace
}  // namespace inkwell
