#include "inkwell/data/variants.hpp"

#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>

#include "inkwell/core/error.hpp"
#include "inkwell/data/image.hpp"

namespace inkwell {

std::string to_string(PngKind kind) {
  switch (kind) {
    case PngKind::gray8: return "gray8";
    case PngKind::gray16: return "gray16";
    case PngKind::rgb: return "rgb";
    case PngKind::rgba_transparent: return "rgba";
  }
  return "?";
}

Variant random_variant(Rng& rng) {
  Variant v;
  v.width = 20 + static_cast<int64_t>(rng.below(281));
  v.height = std::clamp<int64_t>(static_cast<int64_t>(v.width * rng.uniform(0.5, 2.0)), 20, 300);
  v.scale = rng.uniform(0.4, 0.9) * 28.0 / 20.0;  // the 20-pixel digit box fills 40-90%
  v.offset_x = rng.uniform(-0.15, 0.15);
  v.offset_y = rng.uniform(-0.15, 0.15);
  v.stroke = static_cast<int>(rng.below(4)) - 1;
  v.dark_on_light = rng.uniform() < 0.9;
  v.kind = static_cast<PngKind>(rng.below(4));
  return v;
}

namespace {

// Grey-level dilation (thicker) or erosion (thinner) with a 3x3 cross, `steps` times.
std::vector<uint8_t> morph(std::vector<uint8_t> img, int64_t w, int64_t h, int steps) {
  for (int s = 0; s < std::abs(steps); ++s) {
    std::vector<uint8_t> out(img.size());
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        uint8_t v = img[y * w + x];
        for (const auto& [dy, dx] : {std::pair{-1, 0}, {1, 0}, {0, -1}, {0, 1}}) {
          const int64_t yy = y + dy, xx = x + dx;
          const uint8_t n = yy >= 0 && yy < h && xx >= 0 && xx < w ? img[yy * w + xx] : 0;
          v = steps > 0 ? std::max(v, n) : std::min(v, n);
        }
        out[y * w + x] = v;
      }
    img = std::move(out);
  }
  return img;
}

void append(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

// A 16-bit grey PNG by hand (stb writes 8-bit only): signature, IHDR, one zlib IDAT, IEND.
std::vector<uint8_t> gray16_png(const std::vector<uint8_t>& gray, int64_t w, int64_t h);

}  // namespace

std::vector<uint8_t> render_png(const MnistImage& digit, const Variant& v) {
  // Scale the 28x28 digit, stroke changed at 4x resolution so that 1 step stays subtle.
  const int64_t big = 112;
  std::vector<uint8_t> up(big * big);
  stbir_resize_uint8(digit.data(), 28, 28, 28, up.data(), big, big, big, 1);
  up = morph(std::move(up), big, big, v.stroke * 2);
  const auto side = static_cast<int64_t>(std::max(4.0, std::round(std::min(v.width, v.height) * v.scale)));
  std::vector<uint8_t> glyph(side * side);
  stbir_resize_uint8(up.data(), big, big, big, glyph.data(), static_cast<int>(side), static_cast<int>(side), static_cast<int>(side), 1);

  // Paste onto the canvas (ink = glyph value), then set the polarity.
  std::vector<uint8_t> ink(v.width * v.height, 0);
  const int64_t left = static_cast<int64_t>(std::lround((v.width - side) / 2.0 + v.offset_x * v.width));
  const int64_t top = static_cast<int64_t>(std::lround((v.height - side) / 2.0 + v.offset_y * v.height));
  for (int64_t y = 0; y < side; ++y)
    for (int64_t x = 0; x < side; ++x) {
      const int64_t cy = top + y, cx = left + x;
      if (cy >= 0 && cy < v.height && cx >= 0 && cx < v.width) ink[cy * v.width + cx] = glyph[y * side + x];
    }
  std::vector<uint8_t> gray(ink);
  if (v.dark_on_light)
    for (uint8_t& g : gray) g = static_cast<uint8_t>(235 - g * 200 / 255);  // grey ink on off-white paper

  std::vector<uint8_t> png;
  const int w = static_cast<int>(v.width), h = static_cast<int>(v.height);
  switch (v.kind) {
    case PngKind::gray8:
      stbi_write_png_to_func(append, &png, w, h, 1, gray.data(), w);
      break;
    case PngKind::gray16:
      png = gray16_png(gray, v.width, v.height);
      break;
    case PngKind::rgb: {  // blue-ish ink: the colour goes through luminance
      std::vector<uint8_t> rgb(gray.size() * 3);
      for (size_t i = 0; i < gray.size(); ++i) {
        rgb[3 * i] = static_cast<uint8_t>(gray[i] * 0.9), rgb[3 * i + 1] = static_cast<uint8_t>(gray[i] * 0.95), rgb[3 * i + 2] = gray[i];
      }
      stbi_write_png_to_func(append, &png, w, h, 3, rgb.data(), 3 * w);
      break;
    }
    case PngKind::rgba_transparent: {  // ink opaque, paper fully transparent (black underneath)
      std::vector<uint8_t> rgba(gray.size() * 4);
      for (size_t i = 0; i < gray.size(); ++i) {
        const uint8_t g = v.dark_on_light ? 30 : 230;
        rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = g;
        rgba[4 * i + 3] = ink[i];
      }
      stbi_write_png_to_func(append, &png, w, h, 4, rgba.data(), 4 * w);
      break;
    }
  }
  if (png.empty()) throw Error("render_png: stb could not encode the image");
  return png;
}

namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

void chunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put_u32(out, static_cast<uint32_t>(crc32(0, out.data() + start, static_cast<uInt>(out.size() - start))));
}

std::vector<uint8_t> gray16_png(const std::vector<uint8_t>& gray, int64_t w, int64_t h) {
  std::vector<uint8_t> raw;  // filter byte 0 + big-endian 16-bit samples per row
  for (int64_t y = 0; y < h; ++y) {
    raw.push_back(0);
    for (int64_t x = 0; x < w; ++x) raw.push_back(gray[y * w + x]), raw.push_back(gray[y * w + x]);  // v * 257
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> z(size);
  if (compress(z.data(), &size, raw.data(), static_cast<uLong>(raw.size())) != Z_OK) throw Error("render_png: zlib failed");
  z.resize(size);
  std::vector<uint8_t> png(kPngSignature.begin(), kPngSignature.end());
  std::vector<uint8_t> ihdr;
  put_u32(ihdr, static_cast<uint32_t>(w));
  put_u32(ihdr, static_cast<uint32_t>(h));
  ihdr.insert(ihdr.end(), {16, 0, 0, 0, 0});  // 16-bit, greyscale, deflate, no filter, no interlace
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", {});
  return png;
}

}  // namespace

}  // namespace inkwell
