// EMNIST mapping files of any bytes. Property: between 1 and 256 classes, each one printable
// ASCII character, or an inkwell::Error; never another exception, a crash or UB.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "inkwell/core/error.hpp"
#include "inkwell/data/emnist.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (int first_label : {0, 1}) {
    try {
      const auto classes = inkwell::parse_emnist_mapping(text, "fuzz", first_label);
      if (classes.empty() || classes.size() > 256) std::abort();
      for (const std::string& c : classes)
        if (c.size() != 1 || c[0] < 33 || c[0] > 126) std::abort();
    } catch (const inkwell::Error&) {
    }
  }
  return 0;
}
