// Decoding image files into 8-bit grey, whatever their format details: PNG of any bit depth and
// colour type (grey, grey+alpha, RGB, RGBA, palette, 16-bit), alpha composited on white; JPEG
// (jpeg.hpp), turned upright by its EXIF orientation.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace inkwell {

struct GrayImage {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> pixels;  // (height, width), row-major

  uint8_t at(int64_t y, int64_t x) const { return pixels[y * width + x]; }
};

// The 8 bytes every PNG file starts with.
inline constexpr std::array<uint8_t, 8> kPngSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
inline bool starts_with_png_signature(std::span<const uint8_t> bytes) {
  return bytes.size() >= kPngSignature.size() && std::equal(kPngSignature.begin(), kPngSignature.end(), bytes.begin());
}

// Above this many pixels a file is refused before decoding (decompression bombs).
inline constexpr int64_t kDefaultMaxPixels = 64'000'000;

// Reads an image file whole into `buffer` and returns the bytes read, a prefix of it. The buffer
// only grows (never shrunk, never zero-filled again): reused between calls, it costs one read
// per small file and no allocation. Refuses a file larger than an image of max_pixels could
// need. Throws inkwell::Error with the reason ("cannot open (No such file or directory)", "file
// is over the N-byte limit", ...).
std::span<const uint8_t> read_image_file(const std::string& path, int64_t max_pixels, std::vector<uint8_t>& buffer);
// A reused read buffer that grew past 4 MiB (a rare large file) is given back, so that threads
// keeping one do not hold that memory for the rest of the run.
void release_if_large(std::vector<uint8_t>& buffer);
// The same for the file `name` in the open directory `dir_fd` (openat: no path lookup).
std::span<const uint8_t> read_image_file_at(int dir_fd, const std::string& name, int64_t max_pixels,
                                            std::vector<uint8_t>& buffer);

// Decodes PNG bytes. Throws inkwell::Error with a short reason ("not a PNG file", "corrupt or
// truncated PNG (...)", "image is 9000x9000, over the 64000000-pixel limit").
// Simple 8-bit grey files take a faster path (grey_png.hpp) with the same result.
GrayImage decode_png(std::span<const uint8_t> bytes, int64_t max_pixels = kDefaultMaxPixels);
// libspng alone: every PNG, and the reference the fast path is checked against.
GrayImage decode_png_by_libspng(std::span<const uint8_t> bytes, int64_t max_pixels = kDefaultMaxPixels);

// PNG or JPEG, told by the file's first bytes (not its name); anything else is "not a PNG or
// JPEG file".
GrayImage decode_image(std::span<const uint8_t> bytes, int64_t max_pixels = kDefaultMaxPixels);

}  // namespace inkwell
