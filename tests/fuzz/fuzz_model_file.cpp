// Model files from any bytes. Property: a ModelFile whose tensors match its spec's shapes, and
// whose int8 calibration (if any) covers exactly its conv and fc layers, or an inkwell::Error
// (never std::bad_alloc: sizes are checked against the bytes there first).
#include <cstdint>
#include <cstdlib>

#include "inkwell/core/error.hpp"
#include "inkwell/model_file/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const inkwell::ModelFile m = inkwell::parse_model_file({data, size}, "fuzz.inkw");
    const auto shapes = inkwell::state_shapes(m.architecture);
    if (shapes.size() != m.tensors.size()) std::abort();
    for (size_t i = 0; i < shapes.size(); ++i)
      if (shapes[i].dims != m.tensors[i].dims || static_cast<int64_t>(m.tensors[i].data.size()) != inkwell::element_count(shapes[i].dims))
        std::abort();
    if (!m.calibration.empty() && m.calibration.size() != inkwell::quantizable_layers(m.architecture).size())
      std::abort();
  } catch (const inkwell::Error&) {
  }
  return 0;
}
