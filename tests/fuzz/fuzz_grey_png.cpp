// The grey PNG fast path against libspng over any bytes (grey_png.hpp): whatever the fast path
// decodes, libspng decodes too, to the same pixels, unless zlib (libspng's inflater) refuses the
// IDAT stream itself: libdeflate decodes invalid Huffman codewords that zlib refuses, leaving
// corruption to the checksums, the one difference kept. Anything else aborts. Each input is tried
// as it is and with every chunk's CRC made right, so that mutations reach the zlib stream, the
// filters and the chunk order instead of stopping at a CRC.
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "inkwell/core/error.hpp"
#include "inkwell/data/grey_png.hpp"

namespace {

uint32_t big_endian(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

// Does zlib inflate the joined IDAT data of a file the fast path took (so well formed) whole?
bool zlib_inflates(std::span<const uint8_t> png, const inkwell::GrayImage& image) {
  std::vector<uint8_t> stream;
  for (size_t pos = 8; pos + 12 <= png.size();) {
    const uint32_t length = big_endian(&png[pos]);
    if (std::memcmp(&png[pos + 4], "IDAT", 4) == 0) stream.insert(stream.end(), &png[pos + 8], &png[pos + 8] + length);
    pos += 12 + size_t{length};
  }
  std::vector<uint8_t> out(static_cast<size_t>(image.height * (image.width + 1)));
  uLongf size = out.size();
  return uncompress(out.data(), &size, stream.data(), stream.size()) == Z_OK && size == out.size();
}

void check(std::span<const uint8_t> bytes) {
  const std::optional<inkwell::GrayImage> fast = inkwell::decode_simple_grey_png(bytes, inkwell::kGreyPngMaxPixels);
  if (!fast) return;
  try {
    const inkwell::GrayImage reference = inkwell::decode_png_by_libspng(bytes, inkwell::kGreyPngMaxPixels);
    if (reference.width != fast->width || reference.height != fast->height || reference.pixels != fast->pixels)
      std::abort();
  } catch (const inkwell::Error&) {
    if (zlib_inflates(bytes, *fast)) std::abort();  // libspng refused a file for more than its stream
  }
}

std::vector<uint8_t> with_right_crcs(const uint8_t* data, size_t size) {
  std::vector<uint8_t> png(data, data + size);
  for (size_t pos = 8; size >= 12 && pos <= size - 12;) {
    const uint32_t length = uint32_t{png[pos]} << 24 | uint32_t{png[pos + 1]} << 16 | uint32_t{png[pos + 2]} << 8 | png[pos + 3];
    if (length > size - pos - 12) break;
    const uint32_t crc = static_cast<uint32_t>(crc32(0, &png[pos + 4], 4 + length));
    for (int k = 0; k < 4; ++k) png[pos + 8 + length + k] = static_cast<uint8_t>(crc >> (24 - 8 * k));
    pos += 12 + size_t{length};
  }
  return png;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check({data, size});
  const std::vector<uint8_t> fixed = with_right_crcs(data, size);
  check(fixed);
  return 0;
}
