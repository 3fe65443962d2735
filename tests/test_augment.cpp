#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "inkwell/data/augment.hpp"
#include "inkwell/data/dataset.hpp"

namespace inkwell {
namespace {

std::vector<uint8_t> digit() {
  std::vector<uint8_t> img(28 * 28, 0);
  for (int y = 5; y < 23; ++y)
    for (int x = 12; x < 16; ++x) img[y * 28 + x] = 255;
  for (int x = 8; x < 20; ++x) img[5 * 28 + x] = 200;
  return img;
}

TEST(Augment, IdentityConfigurationReturnsTheInput) {
  const auto src = digit();
  std::vector<uint8_t> dst(src.size());
  Rng rng(1);
  augment_image(src.data(), dst.data(), 28, 28, rng, {0, 1, 1, 0, 0});
  EXPECT_EQ(dst, src);
}

TEST(Augment, SameSeedSameImageOtherSeedOtherImage) {
  const auto src = digit();
  std::vector<uint8_t> a(src.size()), b(src.size()), c(src.size());
  Rng r1(7), r2(7), r3(8);
  augment_image(src.data(), a.data(), 28, 28, r1);
  augment_image(src.data(), b.data(), 28, 28, r2);
  augment_image(src.data(), c.data(), 28, 28, r3);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, src);
}

TEST(Augment, KeepsTheInkRoughly) {
  const auto src = digit();
  const double ink = std::accumulate(src.begin(), src.end(), 0.0);
  Rng rng(3);
  double total = 0;
  for (int i = 0; i < 200; ++i) {
    std::vector<uint8_t> dst(src.size());
    augment_image(src.data(), dst.data(), 28, 28, rng);
    const double got = std::accumulate(dst.begin(), dst.end(), 0.0);
    // Worst case for this 4-pixel bar: scale 0.85 (area x0.72) and thinning (edges halved, x0.75)
    // with bilinear blur: about half the ink. Best case: 1.15^2 x thickening.
    EXPECT_GT(got, 0.4 * ink);
    EXPECT_LT(got, 1.8 * ink);
    total += got;
  }
  EXPECT_NEAR(total / 200 / ink, 1.0, 0.15);  // scale and stroke changes average out
}

TEST(Augment, FillBatchAugmentsDeterministically) {
  Dataset d;
  d.rows = d.cols = 28;
  d.images = digit();
  d.labels = {0};
  d.classes = {"0"};
  const std::vector<uint32_t> idx = {0};
  std::vector<float> plain(784), a(784), b(784);
  fill_batch(d, idx, {}, plain.data());
  fill_batch(d, idx, {}, a.data(), 5);
  fill_batch(d, idx, {}, b.data(), 5);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, plain);
}

}  // namespace
}  // namespace inkwell
