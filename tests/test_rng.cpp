#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "inkwell/core/rng.hpp"

namespace inkwell {
namespace {

TEST(Rng, SameSeedSameSequenceAndStateRestores) {
  Rng a(42), b(42), c(43);
  EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(a.next(), c.next());
  const auto saved = a.state();
  const uint64_t x = a.next();
  a.set_state(saved);
  EXPECT_EQ(a.next(), x);
}

TEST(Rng, UniformAndBelowStayInRangeAndCoverIt) {
  Rng rng(1);
  std::vector<int> counts(7);
  for (int i = 0; i < 70000; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    counts[rng.below(7)]++;
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
}

TEST(Rng, ShuffleIsAPermutationAndDeterministic) {
  std::vector<int> a(100), b(100);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 0);
  Rng r1(9), r2(9);
  r1.shuffle(std::span(a));
  r2.shuffle(std::span(b));
  EXPECT_EQ(a, b);
  EXPECT_FALSE(std::is_sorted(a.begin(), a.end()));
  std::sort(a.begin(), a.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a[i], i);
}

}  // namespace
}  // namespace inkwell
