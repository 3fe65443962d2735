// PNG decoding + preprocessing of any bytes (decoded_image_property.hpp).
#include "decoded_image_property.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  inkwell::fuzz::check_decoded_image(inkwell::decode_png, data, size);
  return 0;
}
