// JPEG decoding (EXIF orientation included) + preprocessing of any bytes. Property: an upright
// image whose pixels match its size within the pixel limit, or an inkwell::Error; never another
// exception, a crash, UB (ASan, UBSan), more than -rss_limit_mb, or more than -timeout.
#include <cstdint>
#include <cstdlib>

#include "inkwell/core/error.hpp"
#include "inkwell/data/jpeg.hpp"
#include "inkwell/data/preprocess.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr int64_t kMaxPixels = 1 << 22;  // 4 Mpx: keeps each input fast
  try {
    const inkwell::GrayImage image = inkwell::decode_jpeg({data, size}, kMaxPixels);
    if (image.width < 1 || image.height < 1 || image.width * image.height > kMaxPixels ||
        static_cast<int64_t>(image.pixels.size()) != image.width * image.height)
      std::abort();
    inkwell::to_mnist_like(image);
  } catch (const inkwell::Error&) {
  }
  return 0;
}
