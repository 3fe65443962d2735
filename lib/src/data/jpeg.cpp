#include "inkwell/data/jpeg.hpp"

#include <turbojpeg.h>

#include <memory>

#include "inkwell/core/error.hpp"

namespace inkwell {

namespace {

uint32_t read_u16(const uint8_t* p, bool big_endian) { return big_endian ? (p[0] << 8) | p[1] : (p[1] << 8) | p[0]; }
uint32_t read_u32(const uint8_t* p, bool big_endian) {
  return big_endian ? (read_u16(p, true) << 16) | read_u16(p + 2, true) : (read_u16(p + 2, false) << 16) | read_u16(p, false);
}

// The orientation tag (0x0112) of IFD0 in a TIFF structure (the payload of "Exif\0\0").
int tiff_orientation(std::span<const uint8_t> tiff) {
  if (tiff.size() < 8) return 1;
  const bool big = tiff[0] == 'M' && tiff[1] == 'M';
  if (!big && !(tiff[0] == 'I' && tiff[1] == 'I')) return 1;
  const uint32_t ifd = read_u32(&tiff[4], big);
  if (ifd > tiff.size() - 2) return 1;
  const uint32_t entries = read_u16(&tiff[ifd], big);
  for (uint32_t i = 0; i < entries; ++i) {
    const size_t at = ifd + 2 + 12 * static_cast<size_t>(i);
    if (at + 12 > tiff.size()) return 1;
    if (read_u16(&tiff[at], big) != 0x0112) continue;
    const uint32_t value = read_u16(&tiff[at + 8], big);  // type SHORT, count 1: in the entry itself
    return read_u16(&tiff[at + 2], big) == 3 && value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
  }
  return 1;
}

}  // namespace

int exif_orientation(std::span<const uint8_t> jpeg) {
  // Segments from SOI up to the first scan: FF xx, a 2-byte length that counts itself, payload.
  size_t at = 2;
  while (at + 4 <= jpeg.size() && jpeg[at] == 0xFF) {
    const uint8_t marker = jpeg[at + 1];
    if (marker == 0xDA || marker == 0xD9) break;  // start of scan, end of image
    const size_t length = read_u16(&jpeg[at + 2], true);
    if (length < 2 || at + 2 + length > jpeg.size()) break;
    const std::span<const uint8_t> payload = jpeg.subspan(at + 4, length - 2);
    static constexpr uint8_t kExif[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (marker == 0xE1 && payload.size() >= 6 && std::equal(kExif, kExif + 6, payload.begin())) return tiff_orientation(payload.subspan(6));
    at += 2 + length;
  }
  return 1;
}

GrayImage apply_orientation(const GrayImage& image, int orientation) {
  if (orientation < 2 || orientation > 8) return image;
  const int64_t w = image.width, h = image.height;
  const bool transposed = orientation >= 5;  // 5-8 swap the sides
  GrayImage out{transposed ? h : w, transposed ? w : h, std::vector<uint8_t>(image.pixels.size())};
  // For each output pixel, the stored pixel it shows (EXIF 2.32, Orientation).
  for (int64_t y = 0; y < out.height; ++y)
    for (int64_t x = 0; x < out.width; ++x) {
      int64_t sx = x, sy = y;
      switch (orientation) {
        case 2: sx = w - 1 - x; break;                    // mirrored
        case 3: sx = w - 1 - x, sy = h - 1 - y; break;    // rotated 180
        case 4: sy = h - 1 - y; break;                    // mirrored vertically
        case 5: sx = y, sy = x; break;                    // transposed
        case 6: sx = y, sy = h - 1 - x; break;            // rotate 90 clockwise to view
        case 7: sx = w - 1 - y, sy = h - 1 - x; break;    // transversed
        case 8: sx = w - 1 - y, sy = x; break;            // rotate 90 counter-clockwise to view
      }
      out.pixels[y * out.width + x] = image.at(sy, sx);
    }
  return out;
}

std::vector<uint8_t> encode_jpeg(const GrayImage& image, int quality) {
  const std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitCompress(), tjDestroy);
  if (!handle) throw Error("out of memory");
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  if (tjCompress2(handle.get(), image.pixels.data(), static_cast<int>(image.width), static_cast<int>(image.width),
                  static_cast<int>(image.height), TJPF_GRAY, &jpeg, &size, TJSAMP_GRAY, quality, 0) != 0) {
    tjFree(jpeg);
    throw error("cannot encode JPEG (", tjGetErrorStr2(handle.get()), ")");
  }
  std::vector<uint8_t> out(jpeg, jpeg + size);
  tjFree(jpeg);
  return out;
}

GrayImage decode_jpeg(std::span<const uint8_t> bytes, int64_t max_pixels) {
  if (bytes.size() < 3 || bytes[0] != 0xFF || bytes[1] != 0xD8 || bytes[2] != 0xFF) throw Error("not a JPEG file");
  const std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitDecompress(), tjDestroy);
  if (!handle) throw Error("out of memory");
  auto fail = [&]() -> Error { return error("corrupt JPEG (", tjGetErrorStr2(handle.get()), ")"); };
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), bytes.data(), bytes.size(), &width, &height, &subsampling, &colorspace) != 0) throw fail();
  if (width <= 0 || height <= 0) throw Error("corrupt JPEG (no image size)");
  if (static_cast<int64_t>(width) * height > max_pixels)
    throw error("image is ", width, "x", height, ", over the ", max_pixels, "-pixel limit");
  GrayImage image{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height)};
  // TJPF_GRAY: libjpeg converts colour to luminance (Y of YCbCr, the same weights as the PNG path).
  if (tjDecompress2(handle.get(), bytes.data(), bytes.size(), image.pixels.data(), width, width, height, TJPF_GRAY,
                    TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0)
    throw fail();
  return apply_orientation(image, exif_orientation(bytes));
}

}  // namespace inkwell
