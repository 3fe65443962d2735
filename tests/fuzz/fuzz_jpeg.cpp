// JPEG decoding (EXIF orientation included) + preprocessing of any bytes
// (decoded_image_property.hpp).
#include "decoded_image_property.hpp"
#include "inkwell/data/jpeg.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  inkwell::fuzz::check_decoded_image(inkwell::decode_jpeg, data, size);
  return 0;
}
