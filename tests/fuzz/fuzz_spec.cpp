// Architecture spec strings. Property: parse_spec and state_shapes give layers and bounded
// shapes or an inkwell::Error, and the parsed layers written back parse to the same layers.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string spec(reinterpret_cast<const char*>(data), size);
  try {
    const auto layers = inkwell::parse_spec(spec);
    std::string again;
    for (const auto& l : layers) again += (again.empty() ? "" : "-") + inkwell::to_string(l);
    if (inkwell::parse_spec(again).size() != layers.size()) std::abort();
    int64_t total = 0;
    for (const auto& t : inkwell::state_shapes({spec, {1, 28, 28}})) total += inkwell::element_count(t.dims);
    if (total > inkwell::kMaxSpecParameters) std::abort();
  } catch (const inkwell::Error&) {
  }
  return 0;
}
