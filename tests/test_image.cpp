// PNG decoding of hostile files: every one gives an image or a clear error, with memory bounded
// by the declared image size and the same pixels on every run.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>

#include "inkwell/core/error.hpp"
#include "inkwell/data/image.hpp"
#include "png_builder.hpp"

namespace inkwell {
namespace {

using testing::PngBuilder;

int64_t peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

std::string decode_error(const std::vector<uint8_t>& png) {
  try {
    decode_png(png);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A 1x1 image whose IDAT inflates to 300 MB: stb_image inflated all of it into memory (1 GB for
// a 1 GB stream); libspng inflates into rows sized from IHDR and stops where the image ends.
TEST(DecodePngHostile, DecompressionBombStaysWithinTheDeclaredSize) {
  const std::vector<uint8_t> bomb = PngBuilder().ihdr(1, 1, 8, 0).idat_of_zeros(300u << 20).end();
  ASSERT_LT(bomb.size(), 1u << 20);  // 1 MB on disk
  const int64_t before = peak_rss_kb();
  const auto start = std::chrono::steady_clock::now();
  const GrayImage image = decode_png(bomb);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(peak_rss_kb() - before, 16 * 1024) << "decoding a 1x1 image took more than 16 MB";
  EXPECT_LT(ms, 500) << "decoding a 1x1 image inflated the whole stream";
  EXPECT_EQ(image.width * image.height, 1);
}

// Palette indices past PLTE's entries: stb_image read its uninitialised stack palette, so the
// same file got different pixels (and labels) from run to run. libspng gives them black.
TEST(DecodePngHostile, PaletteIndexPastThePaletteIsBlackOnEveryRun) {
  const std::vector<uint8_t> png =
      PngBuilder().ihdr(4, 1, 8, 3).chunk("PLTE", {10, 20, 30, 200, 200, 200}).idat({0, 0, 1, 7, 200}).end();
  for (int run = 0; run < 3; ++run) EXPECT_EQ(decode_png(png).pixels, (std::vector<uint8_t>{18, 200, 0, 0}));
}

TEST(DecodePngHostile, ErrorsGiveTheDecodersReason) {
  std::vector<uint8_t> png = PngBuilder().ihdr(2, 2, 8, 0).idat({0, 1, 2, 0, 3, 4}).end();
  EXPECT_EQ(decode_png(png).pixels, (std::vector<uint8_t>{1, 2, 3, 4}));
  std::vector<uint8_t> bad_crc = png;
  bad_crc[29] ^= 1;  // IHDR's CRC
  EXPECT_NE(decode_error(bad_crc).find("corrupt PNG"), std::string::npos);
  std::vector<uint8_t> bad_zlib = PngBuilder().ihdr(2, 2, 8, 0).chunk("IDAT", {0x78, 0x9c, 0xff, 0xff, 0}).end();
  const std::string reason = decode_error(bad_zlib);
  EXPECT_NE(reason.find("corrupt PNG"), std::string::npos) << reason;
  EXPECT_EQ(reason.find("JPEG"), std::string::npos) << reason;  // stb said "(no SOI)" here
  EXPECT_NE(decode_error(std::vector<uint8_t>(png.begin(), png.begin() + 40)).find("corrupt PNG"), std::string::npos);
}

// Width x height beyond the limit is refused from IHDR alone, with no overflow in the product.
TEST(DecodePngHostile, HugeDeclaredSizesAreRefusedBeforeDecoding) {
  const std::vector<uint8_t> png = PngBuilder().ihdr(0x7fffffff, 0x7fffffff, 8, 0).idat({0}).end();
  const std::string reason = decode_error(png);
  EXPECT_NE(reason.find("2147483647x2147483647, over the"), std::string::npos) << reason;
}

}  // namespace
}  // namespace inkwell
