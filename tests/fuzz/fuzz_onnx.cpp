// ONNX bytes from anywhere. Property: a ModelFile that passed the shared model check (its tensors
// exactly its spec's), which exports again, or an inkwell::Error; no crash, no other exception.
#include <cstdint>
#include <cstdlib>

#include "inkwell/core/error.hpp"
#include "inkwell/onnx/onnx_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const inkwell::ModelFile m = inkwell::import_onnx({data, size}, "fuzz.onnx");
    const auto shapes = inkwell::state_shapes(m.architecture);
    if (shapes.size() != m.tensors.size()) std::abort();
    for (size_t i = 0; i < shapes.size(); ++i)
      if (shapes[i].dims != m.tensors[i].dims) std::abort();
    if (inkwell::export_onnx(m).empty()) std::abort();
  } catch (const inkwell::Error&) {
  }
  return 0;
}
