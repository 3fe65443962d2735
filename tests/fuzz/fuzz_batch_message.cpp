// A sharded classification's message between ranks (batch_message.hpp), from any bytes.
// Property: a message or an inkwell::Error, never a crash or an allocation the bytes do not
// back; a message decoded, encoded and decoded again encodes to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "inkwell/classify/batch_message.hpp"
#include "inkwell/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const inkwell::BatchMessage m = inkwell::decode(std::span(reinterpret_cast<const char*>(data), size));
    const std::vector<char> once = inkwell::encode(m);
    if (once.size() > size) std::abort();  // decoding never invents bytes
    if (inkwell::encode(inkwell::decode(once)) != once) std::abort();
  } catch (const inkwell::Error&) {
  }
  return 0;
}
