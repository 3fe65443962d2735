// Builds PNG files chunk by chunk (CRCs and zlib from zlib itself), so tests can make the
// malformed and hostile files a real decoder meets: wrong palette indices, decompression bombs.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace inkwell::testing {

class PngBuilder {
 public:
  PngBuilder() { bytes_ = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}; }

  // IHDR: width, height, bit depth, colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA).
  PngBuilder& ihdr(uint32_t width, uint32_t height, uint8_t depth, uint8_t colour) {
    std::vector<uint8_t> d;
    be32(d, width), be32(d, height);
    d.insert(d.end(), {depth, colour, 0, 0, 0});
    return chunk("IHDR", d);
  }
  PngBuilder& chunk(const std::string& type, const std::vector<uint8_t>& data) {
    be32(bytes_, static_cast<uint32_t>(data.size()));
    const size_t start = bytes_.size();
    bytes_.insert(bytes_.end(), type.begin(), type.end());
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    be32(bytes_, static_cast<uint32_t>(crc32(0, bytes_.data() + start, static_cast<uInt>(bytes_.size() - start))));
    return *this;
  }
  // One IDAT holding `raw` (filter bytes included) deflated.
  PngBuilder& idat(const std::vector<uint8_t>& raw) {
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    std::vector<uint8_t> z(size);
    compress2(z.data(), &size, raw.data(), static_cast<uLong>(raw.size()), 9);
    z.resize(size);
    return chunk("IDAT", z);
  }
  // One IDAT whose zlib stream inflates to `zeros` zero bytes, deflated 1 MiB at a time.
  PngBuilder& idat_of_zeros(size_t zeros) {
    z_stream s{};
    deflateInit(&s, 9);
    const std::vector<uint8_t> block(1 << 20, 0);
    std::vector<uint8_t> z, out(1 << 16);
    for (size_t left = zeros; left > 0 || s.avail_in == 0;) {
      const size_t n = std::min(left, block.size());
      s.next_in = const_cast<uint8_t*>(block.data());
      s.avail_in = static_cast<uInt>(n);
      left -= n;
      const int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
      do {
        s.next_out = out.data();
        s.avail_out = static_cast<uInt>(out.size());
        deflate(&s, flush);
        z.insert(z.end(), out.data(), out.data() + (out.size() - s.avail_out));
      } while (s.avail_out == 0);
      if (flush == Z_FINISH) break;
    }
    deflateEnd(&s);
    return chunk("IDAT", z);
  }
  std::vector<uint8_t> end() {
    chunk("IEND", {});
    return bytes_;
  }

 private:
  static void be32(std::vector<uint8_t>& out, uint32_t v) {
    out.insert(out.end(), {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
                           static_cast<uint8_t>(v)});
  }
  std::vector<uint8_t> bytes_;
};

}  // namespace inkwell::testing
