// Micro-batch workers (train/step_workers.hpp): the summed gradient and loss are one model's on
// the whole batch (up to float rounding), rows past the counted ones get none, any number of
// workers gives the same bytes, and an unreadable row throws the same error however the
// micro-batches were shared out.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <numeric>

#include "inkwell/core/error.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/train/step_workers.hpp"

namespace inkwell {
namespace {

const Architecture kArch{"conv6k3p1-relu-maxpool2-conv8k3-relu-fc10", {1, 28, 28}};

Dataset noise_digits(int64_t n) {
  Dataset d;
  d.rows = d.cols = 28;
  d.classes = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  Rng rng(5);
  d.images.resize(static_cast<size_t>(n * 784));
  for (uint8_t& p : d.images) p = static_cast<uint8_t>(rng.below(256));
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(static_cast<uint8_t>(rng.below(10)));
  return d;
}

double relative_error(const float* a, const float* b, size_t n) {
  double d = 0, w = 0;
  for (size_t i = 0; i < n; ++i) d += double(a[i] - b[i]) * (a[i] - b[i]), w += double(b[i]) * b[i];
  return std::sqrt(d / w);
}

struct Step {
  std::vector<float> grads;
  LossResult loss;
};

Step on_workers(const Dataset& data, std::span<const uint32_t> rows, int64_t count, int workers) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  Model master(kArch, kMicroBatch, Mode::train);
  omp_set_num_threads(before);
  master.init_params(3);
  StepWorkers w(master, Bf16Plan{}, workers, static_cast<int64_t>(rows.size()));
  EXPECT_EQ(w.workers(), std::min<int>(workers, static_cast<int>((rows.size() + kMicroBatch - 1) / kMicroBatch)));
  const LossResult r = w.step(data, rows, count, {0.13f, 0.31f}, 77, 9);
  return {std::vector<float>(master.params().grads(), master.params().grads() + master.params().size()), r};
}

TEST(StepWorkers, TheSumIsTheWholeBatchsGradientAndAnyWorkerCountGivesTheSameBytes) {
  const Dataset data = noise_digits(64);
  std::vector<uint32_t> rows(40);
  std::iota(rows.begin(), rows.end(), 7u);
  for (const int64_t count : {int64_t{40}, int64_t{29}}) {  // a whole batch, and a short last one
    // The reference: one model on the whole batch, its rows filled the same way.
    Model whole(kArch, 40, Mode::train);
    whole.init_params(3);
    fill_batch(data, rows, {0.13f, 0.31f}, whole.src(), 77, 1, 0);
    whole.forward();
    std::vector<uint8_t> labels;
    for (int64_t i = 0; i < count; ++i) labels.push_back(data.labels[rows[i]]);
    const LossResult want = softmax_cross_entropy({whole.dst(), 400}, labels, 10, count, {whole.diff_dst(), 400}, count);
    whole.backward();

    const Step one = on_workers(data, rows, count, 1);
    EXPECT_LT(relative_error(one.grads.data(), whole.params().grads(), one.grads.size()), 1e-5) << "count " << count;
    EXPECT_NEAR(one.loss.loss_sum, want.loss_sum, 1e-4 * want.loss_sum);
    EXPECT_EQ(one.loss.correct, want.correct);
    for (int workers : {2, 3, 8}) {
      const Step many = on_workers(data, rows, count, workers);
      EXPECT_EQ(0, std::memcmp(many.grads.data(), one.grads.data(), one.grads.size() * sizeof(float)))
          << workers << " workers, count " << count;
      EXPECT_EQ(many.loss.loss_sum, one.loss.loss_sum);
    }
  }
}

TEST(StepWorkers, AVeryLargeModelGetsLargerMicroBatchesSoThatItsSlotsStayBounded) {
  EXPECT_EQ(micro_batch_size(kArch, 64), kMicroBatch);
  EXPECT_EQ(micro_batch_size(kArch, 5), 5);  // never more than the batch
  // fc4096-fc4096: about 20 M floats, 80 MB of gradients a slot: 3 slots fit in 256 MB.
  const Architecture big{"fc4096-relu-fc4096-relu-fc10", {1, 28, 28}};
  const int64_t micro = micro_batch_size(big, 64);
  EXPECT_GE(micro, 22);
  EXPECT_LE((64 + micro - 1) / micro * 80'000'000, kMaxSlotBytes + 80'000'000);
}

TEST(StepWorkers, AnUnreadableRowThrowsTheLowestMicroBatchsError) {
  Dataset data = noise_digits(4);
  data.images.clear();  // files instead: two of them are missing
  for (int i = 0; i < 4; ++i) data.files.push_back("/nonexistent/inkwell-" + std::to_string(i) + ".png");
  std::vector<uint32_t> rows(32, 0);
  for (int r = 0; r < 32; ++r) rows[r] = r < 12 ? 0 : r < 24 ? 1 : 2;
  for (int workers : {1, 2, 4}) {
    try {
      on_workers(data, rows, 32, workers);
      ADD_FAILURE() << "no error with " << workers << " workers";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("inkwell-0.png"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace inkwell
