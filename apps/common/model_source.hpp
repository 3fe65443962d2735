// --model FILE as every app takes it: an .inkw, or an .onnx file from elsewhere, whose
// normalisation and class names (when inkwell did not write it) come from --normalize and
// --classes (onnx/onnx_model.hpp, docs/model-format.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "inkwell/onnx/onnx_model.hpp"

namespace inkwell::cli {

struct ModelSource {
  std::string normalize;     // "MEAN,STD"
  std::string classes_file;  // one class name a line
};

// Adds --normalize and --classes to `app`.
void add_model_source_options(CLI::App& app, ModelSource& source);

// Loads `path` (.inkw or .onnx) with those options. Throws an Error naming the file.
ModelFile load_model_from(const std::string& path, const ModelSource& source);

}  // namespace inkwell::cli
