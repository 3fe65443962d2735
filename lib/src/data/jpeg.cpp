#include "inkwell/data/jpeg.hpp"

#include <turbojpeg.h>

#include <algorithm>
#include <memory>
#include <string>

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

// Calls visit(marker, payload) for each marker segment from SOI up to the first scan: FF xx, a
// 2-byte length that counts itself, the payload. Stops early when visit returns false.
template <typename Visit>
void for_each_segment(std::span<const uint8_t> jpeg, Visit visit) {
  size_t at = 2;
  while (at + 4 <= jpeg.size() && jpeg[at] == 0xFF) {
    const uint8_t marker = jpeg[at + 1];
    if (marker == 0xDA || marker == 0xD9) return;  // start of scan, end of image
    const size_t length = read_u16(&jpeg[at + 2], true);
    if (length < 2 || at + 2 + length > jpeg.size()) return;
    if (!visit(marker, jpeg.subspan(at + 4, length - 2))) return;
    at += 2 + length;
  }
}

// What the frame header (SOFn) and Adobe's APP14 segment say, read before libjpeg is asked to
// decode, so that what libjpeg-turbo cannot decode gets a reason a person can act on.
struct FrameInfo {
  int sof = -1;        // n of SOFn: 0 baseline, 1 extended, 2 progressive, 3 lossless, 9-11 arithmetic, ...
  int precision = 8;   // bits a sample
  bool adobe = false;  // an APP14 "Adobe" segment: CMYK and YCCK samples are stored inverted
};

FrameInfo frame_info(std::span<const uint8_t> jpeg) {
  FrameInfo f;
  for_each_segment(jpeg, [&](uint8_t marker, std::span<const uint8_t> payload) {
    static constexpr uint8_t kAdobe[5] = {'A', 'd', 'o', 'b', 'e'};
    if (marker == 0xEE && payload.size() >= 12 && std::equal(kAdobe, kAdobe + 5, payload.begin())) f.adobe = true;
    // SOF0-SOF15 but DHT (C4), JPG (C8) and DAC (CC), which share the range.
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      f.sof = marker - 0xC0;
      if (!payload.empty()) f.precision = payload[0];
      return false;
    }
    return true;
  });
  return f;
}

// The smallest of libjpeg-turbo's DCT scaling factors (1/8 to 1) whose image keeps its shorter
// side at kMinDecodedSide or more: the model needs 28x28, so a 6000x4000 photo decodes at 1/8
// (750x500), with an eighth of the IDCT work and a 64th of the output buffer.
tjscalingfactor scale_for(int width, int height) {
  int count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&count);
  tjscalingfactor best{1, 1};
  for (int i = 0; factors && i < count; ++i) {
    const tjscalingfactor f = factors[i];
    if (f.num > f.denom) continue;  // enlarging
    if (std::min(TJSCALED(width, f), TJSCALED(height, f)) < kMinDecodedSide) continue;
    if (f.num * best.denom < best.num * f.denom) best = f;
  }
  return best;
}

// CMYK (ink per channel) to grey: RGB = (255 - C)(255 - K) / 255 ..., then the luminance weights
// of TJPF_GRAY and the PNG path. Adobe stores the samples inverted (255: no ink).
void cmyk_to_gray(const std::vector<uint8_t>& cmyk, bool inverted, std::vector<uint8_t>& gray) {
  for (size_t i = 0; i < gray.size(); ++i) {
    int ink[4];
    for (int c = 0; c < 4; ++c) ink[c] = inverted ? 255 - cmyk[4 * i + c] : cmyk[4 * i + c];
    const int white = 255 - ink[3];
    const int r = (255 - ink[0]) * white, g = (255 - ink[1]) * white, b = (255 - ink[2]) * white;  // x 255
    gray[i] = static_cast<uint8_t>((299 * r + 587 * g + 114 * b + 127500) / 255000);
  }
}

}  // namespace

int exif_orientation(std::span<const uint8_t> jpeg) {
  int orientation = 1;
  for_each_segment(jpeg, [&](uint8_t marker, std::span<const uint8_t> payload) {
    static constexpr uint8_t kExif[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (marker != 0xE1 || payload.size() < 6 || !std::equal(kExif, kExif + 6, payload.begin())) return true;
    orientation = tiff_orientation(payload.subspan(6));
    return false;
  });
  return orientation;
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
  const FrameInfo frame = frame_info(bytes);
  if (frame.sof == 3 || frame.sof == 7 || frame.sof == 11 || frame.sof == 15)
    throw Error("lossless JPEG (SOF" + std::to_string(frame.sof) + "): libjpeg-turbo 2.1 decodes lossy JPEG only");
  if (frame.sof == 5 || frame.sof == 6 || frame.sof == 13 || frame.sof == 14)
    throw Error("hierarchical JPEG (SOF" + std::to_string(frame.sof) + "): not supported by libjpeg-turbo");
  if (frame.sof >= 0 && frame.precision != 8)
    throw error(frame.precision, "-bit JPEG: libjpeg-turbo 2.1 decodes 8-bit samples only");
  const std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitDecompress(), tjDestroy);
  if (!handle) throw Error("out of memory");
  auto fail = [&]() -> Error { return error("corrupt JPEG (", tjGetErrorStr2(handle.get()), ")"); };
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), bytes.data(), bytes.size(), &width, &height, &subsampling, &colorspace) != 0) throw fail();
  if (width <= 0 || height <= 0) throw Error("corrupt JPEG (no image size)");
  // The limit is on the stored image: a progressive file holds every coefficient of it in memory
  // (about 3 bytes a pixel for colour 4:2:0) whatever the scale it is decoded at.
  if (static_cast<int64_t>(width) * height > max_pixels)
    throw error("image is ", width, "x", height, ", over the ", max_pixels, "-pixel limit");
  const tjscalingfactor scale = scale_for(width, height);
  const int w = TJSCALED(width, scale), h = TJSCALED(height, scale);
  GrayImage image{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h)};
  const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {  // print workflows: libjpeg gives CMYK for both
    std::vector<uint8_t> cmyk(image.pixels.size() * 4);
    if (tjDecompress2(handle.get(), bytes.data(), bytes.size(), cmyk.data(), w, 4 * w, h, TJPF_CMYK, flags) != 0) throw fail();
    cmyk_to_gray(cmyk, frame.adobe, image.pixels);
  } else if (tjDecompress2(handle.get(), bytes.data(), bytes.size(), image.pixels.data(), w, w, h, TJPF_GRAY, flags) != 0) {
    // TJPF_GRAY: libjpeg converts colour to luminance (Y of YCbCr, the same weights as the PNG path).
    throw fail();
  }
  return apply_orientation(image, exif_orientation(bytes));
}

}  // namespace inkwell
