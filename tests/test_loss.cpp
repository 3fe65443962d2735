#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/loss.hpp"

namespace inkwell {
namespace {

TEST(SoftmaxCrossEntropy, MatchesHandComputedValues) {
  // Row 0: logits (1, 2, 3), label 2. softmax = e^(x-3) / (e^-2 + e^-1 + 1).
  // Row 1: logits (0, 0, 0), label 0: loss log 3, gradient (1/3 - 1, 1/3, 1/3).
  const std::vector<float> logits = {1, 2, 3, 0, 0, 0};
  const std::vector<uint8_t> labels = {2, 0};
  std::vector<float> diff(6);
  const LossResult r = softmax_cross_entropy(logits, labels, 3, 2, diff);
  const double z = std::exp(-2.0) + std::exp(-1.0) + 1;
  EXPECT_NEAR(r.loss_sum, std::log(z) + std::log(3.0), 1e-9);
  EXPECT_EQ(r.correct, 2);  // argmax of (0,0,0) is the first: label 0
  EXPECT_NEAR(diff[0], std::exp(-2.0) / z / 2, 1e-7);
  EXPECT_NEAR(diff[2], (1 / z - 1) / 2, 1e-7);
  EXPECT_NEAR(diff[3], (1.0 / 3 - 1) / 2, 1e-7);
  EXPECT_NEAR(diff[4], 1.0 / 6, 1e-7);
}

TEST(SoftmaxCrossEntropy, IsStableForHugeLogits) {
  const std::vector<float> logits = {1000, -1000, 0, 1e30f};
  const std::vector<uint8_t> labels = {1, 0};  // both wrong by a mile: losses 2000 and 1e30
  std::vector<float> diff(4);
  const LossResult r = softmax_cross_entropy(logits, labels, 2, 2, diff);
  EXPECT_TRUE(std::isfinite(r.loss_sum));
  EXPECT_NEAR(r.loss_sum, 1e30, 1e24);
  EXPECT_EQ(r.correct, 0);
  EXPECT_NEAR(diff[1], -0.5f, 1e-7);  // (softmax 0 - onehot 1) / 2
  for (float d : diff) EXPECT_TRUE(std::isfinite(d));
}

TEST(SoftmaxCrossEntropy, PaddingRowsGetZeroGradientAndNoLoss) {
  const std::vector<float> logits = {1, 2, 5, -5, 7, 7};
  const std::vector<uint8_t> labels = {1, 0, 1};
  std::vector<float> diff(6, 123.f);
  const LossResult one = softmax_cross_entropy(logits, labels, 2, 1, diff);
  EXPECT_NEAR(one.loss_sum, std::log(1 + std::exp(-1.0)), 1e-9);
  EXPECT_NEAR(diff[1], 1 / (1 + std::exp(-1.0)) - 1, 1e-7);  // divided by count = 1
  for (int i = 2; i < 6; ++i) EXPECT_EQ(diff[i], 0.f) << i;
}

TEST(SoftmaxCrossEntropy, GradientMatchesFiniteDifferences) {
  std::vector<float> logits = {0.3f, -1.2f, 2.0f, 0.7f, 0.1f, -0.4f, 1.5f, 0.2f};
  const std::vector<uint8_t> labels = {3, 0};
  std::vector<float> diff(8);
  softmax_cross_entropy(logits, labels, 4, 2, diff);
  for (size_t i = 0; i < logits.size(); ++i) {
    const float x = logits[i];
    logits[i] = x + 1e-3f;
    const double up = softmax_cross_entropy(logits, labels, 4, 2, {}).loss_sum / 2;
    logits[i] = x - 1e-3f;
    const double down = softmax_cross_entropy(logits, labels, 4, 2, {}).loss_sum / 2;
    logits[i] = x;
    EXPECT_NEAR((up - down) / 2e-3, diff[i], 1e-4) << i;
  }
}

TEST(SoftmaxCrossEntropy, RejectsBadLabelsAndCounts) {
  const std::vector<float> logits = {0, 0, 0, 0};
  const std::vector<uint8_t> labels = {2, 0};
  EXPECT_THROW(softmax_cross_entropy(logits, labels, 2, 2, {}), Error);   // label 2 of 2 classes
  EXPECT_THROW(softmax_cross_entropy(logits, labels, 2, 3, {}), Error);   // 3 rows of 2
  EXPECT_THROW(softmax_cross_entropy(logits, labels, 2, -1, {}), Error);
  const std::vector<uint8_t> ok = {1, 0};
  EXPECT_THROW(softmax_cross_entropy(logits, ok, 2, 2, {}, 1), Error);  // a divisor below the count
}

// Data-parallel training: a rank divides by the global batch's count, and may hold no rows of a
// short last batch (docs/distributed.md).
TEST(SoftmaxCrossEntropy, DividesByTheGlobalCountAndTakesNoRows) {
  const std::vector<float> logits = {1, 2, 3, 0.5f, -1, 2};
  const std::vector<uint8_t> labels = {2, 0};
  std::vector<float> own(6), global(6, 9.f);
  softmax_cross_entropy(logits, labels, 3, 2, own);
  const LossResult r = softmax_cross_entropy(logits, labels, 3, 2, global, 5);
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(global[i], own[i] * 2 / 5) << i;
  EXPECT_GT(r.loss_sum, 0);
  std::vector<float> none(6, 9.f);
  const LossResult empty = softmax_cross_entropy(logits, labels, 3, 0, none, 5);
  EXPECT_EQ(empty.loss_sum, 0);
  EXPECT_EQ(empty.correct, 0);
  for (float d : none) EXPECT_EQ(d, 0.f);
}

}  // namespace
}  // namespace inkwell
