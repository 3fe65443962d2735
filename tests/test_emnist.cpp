// The EMNIST loader on real EMNIST bytes (tests/data/emnist-letters-sample: 1,000 genuine letters
// in the official transposed layout): labels 1-26 become A-Z with the README's class counts, and
// the images come out upright, by statistics that only an upright letter satisfies. Without the
// transpose (IdxLayout::transposed = false) the orientation tests fail: checked by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "inkwell/core/error.hpp"
#include "inkwell/data/dataset.hpp"
#include "inkwell/data/emnist.hpp"

namespace inkwell {
namespace {

const std::string kDir = std::string(INKWELL_SOURCE_DIR) + "/tests/data/emnist-letters-sample/";

Dataset sample() {
  std::vector<std::string> letters;
  for (char c = 'A'; c <= 'Z'; ++c) letters.emplace_back(1, c);
  return load_idx_dataset(kDir + "emnist-letters-sample-images-idx3-ubyte.gz", kDir + "emnist-letters-sample-labels-idx1-ubyte.gz",
                          letters, {.transposed = true, .first_label = 1});
}

// Ink moments of image i: the ink-weighted mean and variance of the row (y) and column (x).
struct Moments {
  double mean_y, mean_x, var_y, var_x;
};
Moments moments(const Dataset& d, int64_t i) {
  double sum = 0, sy = 0, sx = 0, syy = 0, sxx = 0;
  for (int64_t y = 0; y < d.rows; ++y)
    for (int64_t x = 0; x < d.cols; ++x) {
      const double v = d.image(i)[y * d.cols + x];
      sum += v, sy += v * y, sx += v * x, syy += v * y * y, sxx += v * x * x;
    }
  const double my = sy / sum, mx = sx / sum;
  return {my, mx, syy / sum - my * my, sxx / sum - mx * mx};
}

// The share of class `c`'s images for which `test` holds.
template <typename Test>
double share(const Dataset& d, int c, Test test) {
  int64_t n = 0, yes = 0;
  for (int64_t i = 0; i < d.size(); ++i)
    if (d.labels[i] == c) ++n, yes += test(moments(d, i));
  return static_cast<double>(yes) / static_cast<double>(n);
}

TEST(EmnistSample, LabelsAreLettersWithTheReadmesCounts) {
  const Dataset d = sample();
  ASSERT_EQ(d.size(), 1000);
  EXPECT_EQ(d.rows, 28);
  EXPECT_EQ(d.cols, 28);
  ASSERT_EQ(d.classes.size(), 26u);
  EXPECT_EQ(d.classes.front(), "A");
  EXPECT_EQ(d.classes.back(), "Z");
  const std::vector<int> want = {39, 35, 33, 38, 44, 53, 36, 41, 40, 36, 42, 35, 38,
                                 36, 26, 46, 37, 46, 34, 37, 32, 32, 37, 37, 50, 40};
  std::vector<int> got(26);
  for (uint8_t l : d.labels) ++got.at(l);
  EXPECT_EQ(got, want);
}

TEST(EmnistSample, LettersComeOutUpright) {
  const Dataset d = sample();
  auto index = [](char c) { return c - 'A'; };
  // I (and lower-case i, merged into it) is a vertical stroke: taller than wide. Transposed, wide.
  EXPECT_GE(share(d, index('I'), [](const Moments& m) { return m.var_y > m.var_x; }), 0.9);
  // T, P and F carry their ink high (a bar, a bowl, arms at the top): transposed, it sits left.
  for (char c : {'T', 'P', 'F'}) {
    EXPECT_GE(share(d, index(c), [](const Moments& m) { return m.mean_y < 13.5; }), 0.75) << c;
    EXPECT_LE(share(d, index(c), [](const Moments& m) { return m.mean_x < m.mean_y - 2; }), 0.25) << c;
  }
}

TEST(EmnistMapping, EverySplitHasItsClasses) {
  const std::vector<std::pair<std::string, size_t>> sizes = {{"letters", 26}, {"digits", 10}, {"balanced", 47},
                                                             {"bymerge", 47}, {"byclass", 62}, {"mnist", 10}};
  ASSERT_EQ(emnist_splits().size(), sizes.size());
  for (const auto& [split, n] : sizes) EXPECT_EQ(emnist_default_classes(split).size(), n) << split;
  EXPECT_EQ(emnist_default_classes("balanced")[36], "a");
  EXPECT_EQ(emnist_default_classes("byclass")[61], "z");
  EXPECT_EQ(emnist_first_label("letters"), 1);
  EXPECT_EQ(emnist_first_label("balanced"), 0);
  EXPECT_THROW(emnist_default_classes("bogus"), Error);
}

TEST(EmnistMapping, ParsesEmnistsFilesAndNamesTheLineOfAnError) {
  // As EMNIST ships them: letters give upper and lower case, the others one code; LF or CRLF.
  EXPECT_EQ(parse_emnist_mapping("1 65 97\n2 66 98\n3 67 99\n", "letters", 1), (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(parse_emnist_mapping("0 48\r\n1 49\r\n2 97\r\n\r\n", "balanced", 0), (std::vector<std::string>{"0", "1", "a"}));
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"0 48\n2 50\n", "m:2: label 2 where 1 was expected"},
      {"0 48\n1 x\n", "m:2: expected 'label code [code ...]'"},
      {"0\n", "m:1: expected 'label code [code ...]'"},
      {"0 10\n", "m:1: character code 10 is not printable ASCII"},
      {"0 4800000000000000000000\n", "m:1: expected"},
      {"", "m: no classes"},
      {"1 65 97\n", "m:1: label 1 where 0 was expected"}};
  for (const auto& [text, message] : bad) {
    try {
      parse_emnist_mapping(text, "m", 0);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
  std::string many;
  for (int i = 0; i < 257; ++i) many += std::to_string(i) + " 65\n";
  EXPECT_THROW(parse_emnist_mapping(many, "m", 0), Error);
}

}  // namespace
}  // namespace inkwell
