#include "inkwell/data/preprocess.hpp"

#include <stb/stb_image_resize.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "inkwell/core/error.hpp"

namespace inkwell {

namespace {

constexpr int kMnistBox = 20;   // MNIST fits each digit in a 20x20 box
constexpr int kEmnistBox = 24;  // EMNIST: the square crop with a 2-pixel border

std::vector<uint8_t> border_pixels(const GrayImage& img) {
  std::vector<uint8_t> border;
  for (int64_t x = 0; x < img.width; ++x) border.push_back(img.at(0, x)), border.push_back(img.at(img.height - 1, x));
  for (int64_t y = 1; y + 1 < img.height; ++y) border.push_back(img.at(y, 0)), border.push_back(img.at(y, img.width - 1));
  return border;
}

double mean(const std::vector<uint8_t>& v) {
  double s = 0;
  for (uint8_t x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

}  // namespace

PreprocessStyle parse_preprocess_style(const std::string& name) {
  if (name == "mnist") return PreprocessStyle::mnist;
  if (name == "emnist") return PreprocessStyle::emnist;
  throw error("unknown preprocessing style '", name.substr(0, 40), "' (expected mnist or emnist)");
}

std::string to_string(PreprocessStyle style) { return style == PreprocessStyle::emnist ? "emnist" : "mnist"; }

bool is_mnist_like(const GrayImage& img) {
  return img.width == kMnistSide && img.height == kMnistSide && mean(border_pixels(img)) < 128;
}

MnistImage to_mnist_like(const GrayImage& img, PreprocessStyle style) {
  MnistImage out{};
  if (is_mnist_like(img)) {
    std::copy(img.pixels.begin(), img.pixels.end(), out.begin());
    return out;
  }
  // 1-2. Polarity and contrast: ink bright, background 0.
  std::vector<uint8_t> border = border_pixels(img);
  const bool invert = mean(border) >= 128;
  std::vector<uint8_t> ink(img.pixels);
  if (invert)
    for (uint8_t& v : ink) v = static_cast<uint8_t>(255 - v);
  for (uint8_t& v : border) v = invert ? static_cast<uint8_t>(255 - v) : v;
  std::nth_element(border.begin(), border.begin() + border.size() / 2, border.end());
  const int background = border[border.size() / 2];
  const int brightest = *std::max_element(ink.begin(), ink.end());
  if (brightest - background < 16) return out;  // blank: no ink to speak of
  const double scale = 255.0 / (brightest - background);
  for (uint8_t& v : ink) v = static_cast<uint8_t>(std::clamp((v - background) * scale, 0.0, 255.0) + 0.5);

  // 3. Bounding box of the ink.
  int64_t x0 = img.width, y0 = img.height, x1 = -1, y1 = -1;
  for (int64_t y = 0; y < img.height; ++y)
    for (int64_t x = 0; x < img.width; ++x)
      if (ink[y * img.width + x] > 64) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  const int64_t bw = x1 - x0 + 1, bh = y1 - y0 + 1;

  // 4. Resize the box, aspect preserved, longer side 20 or 24 (stb: antialiased filters, both ways).
  const bool emnist = style == PreprocessStyle::emnist;
  const double fit = static_cast<double>(emnist ? kEmnistBox : kMnistBox) / std::max(bw, bh);
  const int tw = std::max(1, static_cast<int>(std::lround(bw * fit))), th = std::max(1, static_cast<int>(std::lround(bh * fit)));
  std::vector<uint8_t> box(static_cast<size_t>(tw) * th);
  stbir_resize_uint8(ink.data() + y0 * img.width + x0, static_cast<int>(bw), static_cast<int>(bh),
                     static_cast<int>(img.width), box.data(), tw, th, tw, 1);

  // 5. Centre of mass (EMNIST: the box's centre) to the centre of the 28x28 field, kept inside it.
  double mass = 0, cx = 0, cy = 0;
  for (int y = 0; y < th; ++y)
    for (int x = 0; x < tw; ++x) {
      const double m = box[y * tw + x];
      mass += m, cx += m * x, cy += m * y;
    }
  const bool by_mass = !emnist && mass > 0;
  const double com_x = by_mass ? cx / mass : (tw - 1) / 2.0, com_y = by_mass ? cy / mass : (th - 1) / 2.0;
  const int left = std::clamp(static_cast<int>(std::lround(kMnistSide / 2.0 - 0.5 - com_x)), 0, kMnistSide - tw);
  const int top = std::clamp(static_cast<int>(std::lround(kMnistSide / 2.0 - 0.5 - com_y)), 0, kMnistSide - th);
  for (int y = 0; y < th; ++y)
    for (int x = 0; x < tw; ++x) out[(top + y) * kMnistSide + left + x] = box[y * tw + x];
  return out;
}

MnistImage read_mnist_like(const std::string& name, PreprocessStyle style, int64_t max_pixels, int dir_fd) {
  thread_local std::vector<uint8_t> buffer;  // the file's bytes, reused by the thread's next read
  struct Release {  // a rare large file's buffer is given back, however the read ends
    ~Release() { release_if_large(buffer); }
  } release;
  const std::span<const uint8_t> bytes =
      dir_fd >= 0 ? read_image_file_at(dir_fd, name, max_pixels, buffer) : read_image_file(name, max_pixels, buffer);
  return decode_mnist_like(bytes, style, max_pixels);
}

MnistImage decode_mnist_like(std::span<const uint8_t> bytes, PreprocessStyle style, int64_t max_pixels) {
  return to_mnist_like(decode_image(bytes, max_pixels), style);
}

}  // namespace inkwell
