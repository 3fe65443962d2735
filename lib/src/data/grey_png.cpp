#include "inkwell/data/grey_png.hpp"

#include <libdeflate.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "inkwell/core/byte_order.hpp"

namespace inkwell {

namespace {

// What a thread keeps between files: the decompressor (allocated once) and buffers that grow to
// the largest image seen (at most kGreyPngMaxPixels).
struct Scratch {
  std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> inflater{
      libdeflate_alloc_decompressor(), libdeflate_free_decompressor};
  std::vector<uint8_t> stream;    // the IDATs' data, joined
  std::vector<uint8_t> filtered;  // (height, 1 + width): each row's filter type, then its bytes
  std::vector<uint8_t> zeros;     // the row above the first
};

// Undoes a row's filter (PNG spec, section 9; one byte a pixel): `up` is the row above, zeros for
// the first. false: not a filter type.
bool unfilter(uint8_t type, const uint8_t* in, const uint8_t* up, uint8_t* out, size_t width) {
  switch (type) {
    case 0:
      std::memcpy(out, in, width);
      return true;
    case 1:  // Sub
      for (size_t x = 0, left = 0; x < width; ++x) out[x] = static_cast<uint8_t>(left = (in[x] + left) & 0xff);
      return true;
    case 2:  // Up
      for (size_t x = 0; x < width; ++x) out[x] = static_cast<uint8_t>(in[x] + up[x]);
      return true;
    case 3:  // Average
      for (size_t x = 0, left = 0; x < width; ++x)
        out[x] = static_cast<uint8_t>(left = (in[x] + ((left + up[x]) >> 1)) & 0xff);
      return true;
    case 4:  // Paeth
      for (size_t x = 0; x < width; ++x) {
        const int a = x ? out[x - 1] : 0, b = up[x], c = x ? up[x - 1] : 0;
        const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
        out[x] = static_cast<uint8_t>(in[x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c));
      }
      return true;
    default:
      return false;
  }
}

}  // namespace

std::optional<GrayImage> decode_simple_grey_png(std::span<const uint8_t> bytes, int64_t max_pixels) {
  if (!starts_with_png_signature(bytes)) return std::nullopt;
  thread_local Scratch scratch;
  if (!scratch.inflater) return std::nullopt;

  // The chunks in order: IHDR, IDAT..., IEND, and the file's end. Each: length, type, data, CRC.
  size_t pos = kPngSignature.size();
  auto next = [&](const char* type, uint32_t& length, const uint8_t*& data) {
    if (bytes.size() - pos < 12) return false;
    length = load_big_endian_u32(&bytes[pos]);
    if (length > 0x7fffffff || length > bytes.size() - pos - 12 || std::memcmp(&bytes[pos + 4], type, 4) != 0) return false;
    data = &bytes[pos + 8];
    if (libdeflate_crc32(0, &bytes[pos + 4], 4 + size_t{length}) != load_big_endian_u32(data + length)) return false;
    pos += 12 + size_t{length};
    return true;
  };
  uint32_t length = 0;
  const uint8_t* data = nullptr;
  if (!next("IHDR", length, data) || length != 13) return std::nullopt;
  const uint32_t width = load_big_endian_u32(data), height = load_big_endian_u32(data + 4);
  // 8-bit grey (type 0), deflate, adaptive filtering, no interlacing.
  if (data[8] != 8 || data[9] != 0 || data[10] != 0 || data[11] != 0 || data[12] != 0) return std::nullopt;
  if (width == 0 || height == 0 || width > kGreyPngMaxPixels || height > kGreyPngMaxPixels) return std::nullopt;
  const int64_t pixels = int64_t{width} * height;
  if (pixels > kGreyPngMaxPixels || pixels > max_pixels) return std::nullopt;

  const size_t filtered_size = size_t{height} * (1 + width);
  scratch.stream.clear();
  while (next("IDAT", length, data)) {
    // A stream far larger than its image (empty stored blocks) is libspng's to judge.
    if (scratch.stream.size() + length > 2 * filtered_size + 1024) return std::nullopt;
    scratch.stream.insert(scratch.stream.end(), data, data + length);
  }
  if (scratch.stream.size() < 2 || !next("IEND", length, data) || length != 0 || pos != bytes.size())
    return std::nullopt;
  // The whole stream in one call, into exactly the image's bytes, to the stream's last byte. It
  // must declare zlib's full 32 KiB window: with a smaller one, zlib (libspng's inflater) refuses
  // distances that reach further back, where libdeflate would not.
  if ((scratch.stream[0] >> 4) != 7) return std::nullopt;
  scratch.filtered.resize(filtered_size);
  size_t used_in = 0, used_out = 0;
  if (libdeflate_zlib_decompress_ex(scratch.inflater.get(), scratch.stream.data(), scratch.stream.size(),
                                    scratch.filtered.data(), filtered_size, &used_in, &used_out) != LIBDEFLATE_SUCCESS ||
      used_in != scratch.stream.size() || used_out != filtered_size)
    return std::nullopt;

  GrayImage image{width, height, std::vector<uint8_t>(static_cast<size_t>(pixels))};
  if (scratch.zeros.size() < width) scratch.zeros.assign(width, 0);
  for (size_t y = 0; y < height; ++y) {
    const uint8_t* row = scratch.filtered.data() + y * (1 + width);
    uint8_t* out = image.pixels.data() + y * width;
    if (!unfilter(row[0], row + 1, y ? out - width : scratch.zeros.data(), out, width)) return std::nullopt;
  }
  return image;
}

}  // namespace inkwell
