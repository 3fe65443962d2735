// Fine-tuning: a model starts from another model file's layers wherever names and shapes match,
// and may keep its first layers fixed (Optimizer::freeze_prefix).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "inkwell/nn/model.hpp"
#include "inkwell/model_file/model_file.hpp"

namespace inkwell {

// Every tensor of `model` whose name and dims match one in `from` takes its values; the others
// keep their initialisation (a last layer for another class count).
struct CopiedTensors {
  size_t copied = 0;
  std::vector<std::string> fresh;  // the names of those left as initialised
};
CopiedTensors copy_matching_tensors(const ModelFile& from, Model& model);

// How many floats at the start of the parameter arena hold the first `layers` parameterised
// layers (conv1, bn1, ... in spec order): what Optimizer::freeze_prefix takes. Throws if that
// would freeze every layer, or if the arena does not keep those layers first (checked, not
// assumed).
size_t frozen_floats(const ParamArena& arena, int layers);

}  // namespace inkwell
