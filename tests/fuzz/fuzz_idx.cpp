// IDX files, raw or gzip'd, from any bytes. Property: an array holding exactly the bytes its dims
// announce, or an inkwell::Error; a gzip stream never inflates past what its header declares.
#include <cstdint>
#include <cstdlib>

#include "inkwell/core/error.hpp"
#include "inkwell/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const inkwell::IdxArray a = inkwell::parse_idx({data, data + size}, "fuzz.idx");
    if (static_cast<int64_t>(a.data.size()) != inkwell::element_count(a.dims)) std::abort();
  } catch (const inkwell::Error&) {
  }
  return 0;
}
