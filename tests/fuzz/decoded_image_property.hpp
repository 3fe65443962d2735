// The property fuzz_png and fuzz_jpeg assert of their decoder over any bytes: an image whose
// pixels match its size within the pixel limit, that preprocessing accepts, or an
// inkwell::Error; never another exception, a crash, UB (ASan, UBSan), more than libFuzzer's
// -rss_limit_mb, or more than its -timeout.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <span>

#include "inkwell/core/error.hpp"
#include "inkwell/data/image.hpp"
#include "inkwell/data/preprocess.hpp"

namespace inkwell::fuzz {

inline constexpr int64_t kMaxPixels = 1 << 22;  // 4 Mpx: keeps each input fast

template <typename Decode>
void check_decoded_image(Decode decode, const uint8_t* data, size_t size) {
  try {
    const GrayImage image = decode(std::span<const uint8_t>(data, size), kMaxPixels);
    if (image.width < 1 || image.height < 1 || image.width * image.height > kMaxPixels ||
        static_cast<int64_t>(image.pixels.size()) != image.width * image.height)
      std::abort();
    to_mnist_like(image);
  } catch (const Error&) {
  }
}

}  // namespace inkwell::fuzz
