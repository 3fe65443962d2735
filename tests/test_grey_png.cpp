// The grey PNG fast path (grey_png.hpp): it takes simple 8-bit grey files and gives libspng's
// pixels; it declines everything else, and decode_png then gives libspng's result or error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "inkwell/core/error.hpp"
#include "inkwell/data/grey_png.hpp"
#include "png_builder.hpp"

namespace inkwell {
namespace {

using testing::PngBuilder;

// Rows of `width` grey pixels, each row filtered with type (row % 5), as a PNG writer would.
std::vector<uint8_t> filtered_rows(const std::vector<uint8_t>& pixels, uint32_t width, uint32_t height) {
  std::vector<uint8_t> raw;
  for (uint32_t y = 0; y < height; ++y) {
    const uint8_t type = static_cast<uint8_t>(y % 5);
    raw.push_back(type);
    for (uint32_t x = 0; x < width; ++x) {
      const int a = x ? pixels[y * width + x - 1] : 0, b = y ? pixels[(y - 1) * width + x] : 0,
                c = x && y ? pixels[(y - 1) * width + x - 1] : 0;
      const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
      const int predicted[5] = {0, a, b, (a + b) / 2, pa <= pb && pa <= pc ? a : pb <= pc ? b : c};
      raw.push_back(static_cast<uint8_t>(pixels[y * width + x] - predicted[type]));
    }
  }
  return raw;
}

std::vector<uint8_t> noise(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (uint8_t& p : v) p = static_cast<uint8_t>(rng() >> 24);
  return v;
}

// What a decoder makes of a file: "decoded", or its error.
std::string outcome(GrayImage (*decode)(std::span<const uint8_t>, int64_t), const std::vector<uint8_t>& png) {
  try {
    decode(png, kDefaultMaxPixels);
  } catch (const Error& e) {
    return e.what();
  }
  return "decoded";
}

TEST(GreyPng, TakesSimpleGreyFilesWithLibspngsPixels) {
  for (const auto& [width, height] : {std::pair<uint32_t, uint32_t>{28, 28}, {1, 1}, {1, 7}, {300, 2}, {33, 65}}) {
    const std::vector<uint8_t> pixels = noise(size_t{width} * height, width * 31 + height);
    const std::vector<uint8_t> png = PngBuilder().ihdr(width, height, 8, 0).idat(filtered_rows(pixels, width, height)).end();
    const std::optional<GrayImage> fast = decode_simple_grey_png(png, kDefaultMaxPixels);
    ASSERT_TRUE(fast.has_value()) << width << "x" << height;
    EXPECT_EQ(fast->pixels, pixels);
    EXPECT_EQ(decode_png_by_libspng(png).pixels, pixels);
  }
}

// The real MNIST digit of the fuzz corpus (written by stb, with its own filter choices).
TEST(GreyPng, TakesARealMnistFile) {
  std::ifstream in(std::filesystem::path(INKWELL_SOURCE_DIR) / "tests/fuzz/corpus/fuzz_png/mnist.png", std::ios::binary);
  const std::vector<uint8_t> png((std::istreambuf_iterator<char>(in)), {});
  ASSERT_FALSE(png.empty());
  const std::optional<GrayImage> fast = decode_simple_grey_png(png, kDefaultMaxPixels);
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->pixels, decode_png_by_libspng(png).pixels);
}

// The stream split over several IDATs, as writers with a buffer size do.
TEST(GreyPng, JoinsTheIdats) {
  const std::vector<uint8_t> pixels = noise(28 * 28, 5);
  const std::vector<uint8_t> one = PngBuilder().ihdr(28, 28, 8, 0).idat(filtered_rows(pixels, 28, 28)).end();
  // The one IDAT's data (after signature, IHDR: 8 + 25 bytes; length and type: 8), in three.
  const uint32_t length = uint32_t{one[33]} << 24 | uint32_t{one[34]} << 16 | uint32_t{one[35]} << 8 | one[36];
  const std::vector<uint8_t> z(one.begin() + 41, one.begin() + 41 + length);
  const size_t third = z.size() / 3;
  const std::vector<uint8_t> png = PngBuilder()
                                       .ihdr(28, 28, 8, 0)
                                       .chunk("IDAT", {z.begin(), z.begin() + third})
                                       .chunk("IDAT", {})
                                       .chunk("IDAT", {z.begin() + third, z.begin() + 2 * third})
                                       .chunk("IDAT", {z.begin() + 2 * third, z.end()})
                                       .end();
  const std::optional<GrayImage> fast = decode_simple_grey_png(png, kDefaultMaxPixels);
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->pixels, pixels);
}

// Every file it declines: decode_png's result is libspng's, image or error.
TEST(GreyPng, DeclinesWhatItDoesNotExpectAndLibspngDecides) {
  const std::vector<uint8_t> pixels = noise(28 * 28, 9);
  const std::vector<uint8_t> rows = filtered_rows(pixels, 28, 28);
  const std::vector<uint8_t> good = PngBuilder().ihdr(28, 28, 8, 0).idat(rows).end();
  std::vector<uint8_t> bad_crc = good, trailing = good, bad_filter_rows = rows, short_rows(rows.begin(), rows.end() - 28);
  bad_crc[50] ^= 0x40;  // inside IDAT's data: the CRC no longer matches
  trailing.push_back(0);
  bad_filter_rows[29 * 3] = 5;  // the fourth row's filter type
  std::vector<uint8_t> small_window = rows;  // deflated with a 512-byte window: CINFO 1
  {
    z_stream s{};
    deflateInit2(&s, 9, Z_DEFLATED, 9, 8, Z_DEFAULT_STRATEGY);
    std::vector<uint8_t> z(deflateBound(&s, rows.size()));
    s.next_in = const_cast<uint8_t*>(rows.data()), s.avail_in = static_cast<uInt>(rows.size());
    s.next_out = z.data(), s.avail_out = static_cast<uInt>(z.size());
    ASSERT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
    z.resize(z.size() - s.avail_out);
    deflateEnd(&s);
    small_window = PngBuilder().ihdr(28, 28, 8, 0).chunk("IDAT", z).end();
  }
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> declined = {
      {"16-bit", PngBuilder().ihdr(2, 1, 16, 0).idat({0, 1, 2, 3, 4}).end()},
      {"RGB", PngBuilder().ihdr(1, 1, 8, 2).idat({0, 1, 2, 3}).end()},
      {"grey with tRNS", PngBuilder().ihdr(28, 28, 8, 0).chunk("tRNS", {0, 0}).idat(rows).end()},
      {"an ancillary chunk", PngBuilder().ihdr(28, 28, 8, 0).chunk("pHYs", std::vector<uint8_t>(9, 1)).idat(rows).end()},
      {"a bad CRC", bad_crc},
      {"bytes after IEND", trailing},
      {"filter type 5", PngBuilder().ihdr(28, 28, 8, 0).idat(bad_filter_rows).end()},
      {"a row short", PngBuilder().ihdr(28, 28, 8, 0).idat(short_rows).end()},
      {"a small zlib window", small_window},
      {"no IEND", {good.begin(), good.end() - 12}},
      {"a bomb", PngBuilder().ihdr(1, 1, 8, 0).idat_of_zeros(4 << 20).end()},
  };
  for (const auto& [what, png] : declined) {
    EXPECT_FALSE(decode_simple_grey_png(png, kDefaultMaxPixels).has_value()) << what;
    EXPECT_EQ(outcome(decode_png, png), outcome(decode_png_by_libspng, png)) << what;
  }
  // Over the caller's pixel limit, or over the fast path's own: libspng's limit message.
  EXPECT_FALSE(decode_simple_grey_png(good, 28 * 28 - 1).has_value());
  const std::vector<uint8_t> large = PngBuilder().ihdr(1025, 1024, 8, 0).idat_of_zeros(1025 * 1024 + 1024).end();
  EXPECT_FALSE(decode_simple_grey_png(large, kDefaultMaxPixels).has_value());
  EXPECT_EQ(decode_png(large).width, 1025);
}

// The difference kept on purpose (grey_png.hpp): a stream whose Huffman code has an unused
// codeword, which zlib refuses and libdeflate decodes; its Adler-32 and CRCs check out. Found by
// fuzz_grey_png (tests/fuzz/corpus/fuzz_grey_png/incomplete-huffman-code.png).
TEST(GreyPng, AStreamOnlyZlibRefusesIsDecoded) {
  std::ifstream in(std::filesystem::path(INKWELL_SOURCE_DIR) / "tests/fuzz/corpus/fuzz_grey_png/incomplete-huffman-code.png",
                   std::ios::binary);
  const std::vector<uint8_t> png((std::istreambuf_iterator<char>(in)), {});
  ASSERT_FALSE(png.empty());
  EXPECT_NE(outcome(decode_png_by_libspng, png).find("corrupt PNG"), std::string::npos);
  const std::optional<GrayImage> fast = decode_simple_grey_png(png, kDefaultMaxPixels);
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(decode_png(png).pixels, fast->pixels);
}

}  // namespace
}  // namespace inkwell
