// JPEG input: decoding (strict, bounded), the EXIF orientation, and the dispatch by signature.
#include <gtest/gtest.h>

// libjpeg itself (libjpeg62-turbo-dev), to write what TurboJPEG cannot: CMYK with and without
// Adobe's marker, YCCK, arithmetic coding.
#include <cstdio>
#include <jpeglib.h>

#include <cmath>
#include <cstdlib>

#include "inkwell/core/error.hpp"
#include "inkwell/data/image.hpp"
#include "inkwell/data/jpeg.hpp"

namespace inkwell {
namespace {

// A 16x8 image, dark left half and a bright bottom-right quarter: every orientation differs.
GrayImage asymmetric() {
  GrayImage img{16, 8, std::vector<uint8_t>(16 * 8, 128)};
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 16; ++x) img.pixels[y * 16 + x] = x < 8 ? 20 : y >= 4 ? 240 : 128;
  return img;
}

// What libjpeg writes from 4-channel samples `cmyk` (w x h) as colour space `space` (JCS_CMYK or
// JCS_YCCK), with or without Adobe's APP14 marker; or from grey samples (JCS_GRAYSCALE), with
// arithmetic coding when `arithmetic`.
std::vector<uint8_t> libjpeg_encode(const std::vector<uint8_t>& samples, int w, int h, J_COLOR_SPACE space, bool adobe,
                                    bool arithmetic = false) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = w, c.image_height = h;
  c.input_components = space == JCS_GRAYSCALE ? 1 : 4;
  c.in_color_space = space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_colorspace(&c, space);
  jpeg_set_quality(&c, 95, TRUE);
  c.write_Adobe_marker = adobe;
  c.arith_code = arithmetic;
  jpeg_start_compress(&c, TRUE);
  const int stride = w * c.input_components;
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(&samples[static_cast<size_t>(c.next_scanline) * stride]);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::vector<uint8_t> bytes(out, out + size);
  std::free(out);
  return bytes;
}

double mean_abs_difference(const GrayImage& a, const GrayImage& b) {
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size() && i < b.pixels.size(); ++i) sum += std::abs(a.pixels[i] - b.pixels[i]);
  return sum / static_cast<double>(a.pixels.size());
}

// `jpeg` with an APP1 Exif segment after SOI whose IFD0 has one entry, Orientation = `value`.
std::vector<uint8_t> with_orientation(const std::vector<uint8_t>& jpeg, uint16_t value, bool big_endian) {
  auto u16 = [&](std::vector<uint8_t>& v, uint16_t x) {
    if (big_endian) v.insert(v.end(), {static_cast<uint8_t>(x >> 8), static_cast<uint8_t>(x)});
    else v.insert(v.end(), {static_cast<uint8_t>(x), static_cast<uint8_t>(x >> 8)});
  };
  std::vector<uint8_t> tiff = big_endian ? std::vector<uint8_t>{'M', 'M', 0, 42, 0, 0, 0, 8} : std::vector<uint8_t>{'I', 'I', 42, 0, 8, 0, 0, 0};
  u16(tiff, 1);                     // one entry
  u16(tiff, 0x0112), u16(tiff, 3);  // Orientation, SHORT
  if (big_endian) tiff.insert(tiff.end(), {0, 0, 0, 1});
  else tiff.insert(tiff.end(), {1, 0, 0, 0});
  u16(tiff, value), u16(tiff, 0);
  tiff.insert(tiff.end(), {0, 0, 0, 0});  // no next IFD
  std::vector<uint8_t> app1 = {0xFF, 0xE1};
  const size_t length = 2 + 6 + tiff.size();
  app1.insert(app1.end(), {static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)});
  app1.insert(app1.end(), {'E', 'x', 'i', 'f', 0, 0});
  app1.insert(app1.end(), tiff.begin(), tiff.end());
  std::vector<uint8_t> out(jpeg.begin(), jpeg.begin() + 2);
  out.insert(out.end(), app1.begin(), app1.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

TEST(JpegTest, RoundTripsCloseToTheOriginal) {
  const GrayImage img = asymmetric();
  const GrayImage back = decode_image(encode_jpeg(img, 95));
  ASSERT_EQ(back.width, 16);
  ASSERT_EQ(back.height, 8);
  int worst = 0;
  for (size_t i = 0; i < img.pixels.size(); ++i) worst = std::max(worst, std::abs(img.pixels[i] - back.pixels[i]));
  EXPECT_LE(worst, 24);  // JPEG rings at the edges; a wrong decode (colour, transposed) is far off
  EXPECT_LT(back.at(2, 2), 60);
  EXPECT_GT(back.at(6, 14), 200);
}

TEST(JpegTest, OrientationMapsStoredPixelsUpright) {
  // 2x3 stored: rows "a b" / "c d" / "e f".
  const GrayImage stored{2, 3, {1, 2, 3, 4, 5, 6}};
  const std::vector<std::pair<int, std::vector<uint8_t>>> cases = {
      {1, {1, 2, 3, 4, 5, 6}},  {2, {2, 1, 4, 3, 6, 5}},  {3, {6, 5, 4, 3, 2, 1}}, {4, {5, 6, 3, 4, 1, 2}},
      {5, {1, 3, 5, 2, 4, 6}},  {6, {5, 3, 1, 6, 4, 2}},  {7, {6, 4, 2, 5, 3, 1}}, {8, {2, 4, 6, 1, 3, 5}}};
  for (const auto& [orientation, want] : cases) {
    const GrayImage up = apply_orientation(stored, orientation);
    EXPECT_EQ(up.width, orientation >= 5 ? 3 : 2) << orientation;
    EXPECT_EQ(up.pixels, want) << "orientation " << orientation;
  }
}

TEST(JpegTest, DecodeAppliesExifOrientationInBothByteOrders) {
  const GrayImage img = asymmetric();
  const std::vector<uint8_t> plain = encode_jpeg(img, 95);
  const GrayImage stored = decode_jpeg(plain);
  for (bool big_endian : {false, true})
    for (uint16_t o : {3, 6, 8}) {
      const std::vector<uint8_t> tagged = with_orientation(plain, o, big_endian);
      EXPECT_EQ(exif_orientation(tagged), o);
      const GrayImage up = decode_image(tagged);
      EXPECT_EQ(up.pixels, apply_orientation(stored, o).pixels) << "orientation " << o << (big_endian ? " MM" : " II");
    }
  // Orientation 6 (rotate 90 clockwise to view): the dark left half becomes the top half.
  const GrayImage up = decode_image(with_orientation(plain, 6, false));
  EXPECT_EQ(up.width, 8);
  EXPECT_EQ(up.height, 16);
  EXPECT_LT(up.at(2, 4), 60);
  EXPECT_GT(up.at(14, 1), 200);
}

TEST(JpegTest, MalformedExifIsIgnored) {
  const std::vector<uint8_t> plain = encode_jpeg(asymmetric(), 95);
  EXPECT_EQ(exif_orientation(plain), 1);
  EXPECT_EQ(exif_orientation(with_orientation(plain, 9, false)), 1);  // out of range
  std::vector<uint8_t> bad = with_orientation(plain, 6, false);
  bad[2 + 4 + 6 + 4] = 0xFF;  // IFD0 offset far past the segment
  EXPECT_EQ(exif_orientation(bad), 1);
  EXPECT_NO_THROW(decode_image(bad));
  EXPECT_EQ(exif_orientation(std::vector<uint8_t>(bad.begin(), bad.begin() + 12)), 1);  // cut inside APP1
}

TEST(JpegTest, CorruptTruncatedAndOversizedFilesAreRefusedWithTheirReason) {
  const std::vector<uint8_t> jpeg = encode_jpeg(asymmetric(), 95);
  const std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + static_cast<ptrdiff_t>(jpeg.size() * 2 / 3));
  try {
    decode_image(cut);
    FAIL() << "a truncated JPEG decoded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt JPEG"), std::string::npos) << e.what();
  }
  EXPECT_THROW(decode_jpeg(std::vector<uint8_t>{0xFF, 0xD8, 0xFF}), Error);
  EXPECT_THROW(decode_image(std::vector<uint8_t>{'G', 'I', 'F', '8'}), Error);
  // A header declaring 60000x60000: refused from the header, before any pixel buffer exists.
  std::vector<uint8_t> bomb = jpeg;
  for (size_t i = 2; i + 9 < bomb.size(); ++i)
    if (bomb[i] == 0xFF && bomb[i + 1] == 0xC0) {  // SOF0: FF C0, length, precision, height, width
      bomb[i + 5] = 0xEA, bomb[i + 6] = 0x60, bomb[i + 7] = 0xEA, bomb[i + 8] = 0x60;
      break;
    }
  try {
    decode_image(bomb, 64'000'000);
    FAIL() << "a 60000x60000 JPEG was decoded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("60000x60000, over the 64000000-pixel limit"), std::string::npos) << e.what();
  }
}

// Print workflows write CMYK and YCCK. A 64x32 page: the left half black ink of `asymmetric`'s
// shades, the right half pure cyan (grey 179 by the luminance weights). Adobe stores the samples
// inverted (255: no ink) and says so in APP14; without that marker they are ink as it is.
TEST(JpegTest, CmykAndYcckBecomeTheGreyOfTheirInkInEitherConvention) {
  const int w = 64, h = 32;
  GrayImage expected{w, h, std::vector<uint8_t>(w * h)};
  std::vector<uint8_t> ink(static_cast<size_t>(w) * h * 4, 0);  // C, M, Y, K
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* px = &ink[(static_cast<size_t>(y) * w + x) * 4];
      const int i = y * w + x;
      if (x < w / 2) {
        const uint8_t grey = asymmetric().at(y / 4, x / 2);
        px[3] = static_cast<uint8_t>(255 - grey), expected.pixels[i] = grey;
      } else {
        px[0] = 255, expected.pixels[i] = 179;
      }
    }
  std::vector<uint8_t> inverted(ink.size());
  for (size_t i = 0; i < ink.size(); ++i) inverted[i] = static_cast<uint8_t>(255 - ink[i]);
  for (const J_COLOR_SPACE space : {JCS_CMYK, JCS_YCCK}) {
    const GrayImage adobe = decode_image(libjpeg_encode(inverted, w, h, space, true));
    EXPECT_LT(mean_abs_difference(adobe, expected), 3) << (space == JCS_CMYK ? "CMYK" : "YCCK") << ", Adobe";
  }
  const GrayImage plain = decode_image(libjpeg_encode(ink, w, h, JCS_CMYK, false));
  EXPECT_LT(mean_abs_difference(plain, expected), 3) << "CMYK without Adobe's marker";
}

TEST(JpegTest, ArithmeticCodedJpegDecodes) {
  const GrayImage img = asymmetric();
  const GrayImage back = decode_image(libjpeg_encode(img.pixels, 16, 8, JCS_GRAYSCALE, false, true));
  EXPECT_LT(mean_abs_difference(back, img), 3);
}

// What libjpeg-turbo 2.1 cannot decode says what it is, from the frame header.
TEST(JpegTest, TwelveBitAndLosslessJpegsAreRefusedWithTheirReason) {
  const std::vector<uint8_t> jpeg = encode_jpeg(asymmetric(), 95);
  size_t sof = 0;
  for (size_t i = 2; i + 4 < jpeg.size() && !sof; ++i)
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) sof = i;
  ASSERT_GT(sof, 0u);
  auto reason = [](const std::vector<uint8_t>& bytes) -> std::string {
    try {
      decode_image(bytes);
    } catch (const Error& e) {
      return e.what();
    }
    return "decoded";
  };
  std::vector<uint8_t> twelve = jpeg;
  twelve[sof + 4] = 12;  // FF C0, length (2 bytes), precision
  EXPECT_EQ(reason(twelve), "12-bit JPEG: libjpeg-turbo 2.1 decodes 8-bit samples only");
  std::vector<uint8_t> lossless = jpeg;
  lossless[sof + 1] = 0xC3;
  EXPECT_EQ(reason(lossless), "lossless JPEG (SOF3): libjpeg-turbo 2.1 decodes lossy JPEG only");
  std::vector<uint8_t> hierarchical = jpeg;
  hierarchical[sof + 1] = 0xC5;
  EXPECT_EQ(reason(hierarchical), "hierarchical JPEG (SOF5): not supported by libjpeg-turbo");
}

// A 2048x1024 scan decodes at 1/4 (512x256: the shorter side stays at 256 or more), and shows
// what the full image shows: its left half dark.
TEST(JpegTest, LargeImagesDecodeAtAReducedDctScale) {
  GrayImage big{2048, 1024, std::vector<uint8_t>(2048 * 1024)};
  for (int64_t y = 0; y < big.height; ++y)
    for (int64_t x = 0; x < big.width; ++x) big.pixels[y * big.width + x] = x < 1024 ? 30 : 220;
  const GrayImage small = decode_image(encode_jpeg(big, 90));
  EXPECT_EQ(small.width, 512);
  EXPECT_EQ(small.height, 256);
  EXPECT_NEAR(small.at(128, 100), 30, 4);
  EXPECT_NEAR(small.at(128, 400), 220, 4);
  // The factors go in eighths: 600x400 decodes at 3/4 (450x300; 5/8 would leave 250), and an
  // image whose shorter side is under 293 (7/8 of it under 256) decodes whole.
  GrayImage mid{600, 400, std::vector<uint8_t>(600 * 400, 128)};
  EXPECT_EQ(decode_image(encode_jpeg(mid, 90)).width, 450);
  GrayImage small_scan{400, 290, std::vector<uint8_t>(400 * 290, 128)};
  EXPECT_EQ(decode_image(encode_jpeg(small_scan, 90)).width, 400);
}

}  // namespace
}  // namespace inkwell
