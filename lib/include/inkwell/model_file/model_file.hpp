// Model files (.inkw): self-describing, checksummed, written atomically. docs/model-format.md
// gives the byte layout. Loading validates everything and names the file and the problem.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "inkwell/data/dataset.hpp"
#include "inkwell/nn/quantization.hpp"
#include "inkwell/nn/spec.hpp"
#include "inkwell/core/tensor.hpp"

namespace inkwell {

// Version 2 added the quantization section; version 1 files still load (without one).
inline constexpr uint32_t kModelFormatVersion = 2;

struct ModelFile {
  Architecture architecture;
  std::vector<std::string> classes;
  Normalization normalization;
  std::vector<NamedTensor> tensors;            // parameters, plain layouts
  std::vector<NamedTensor> optimizer;          // optional: "<param>.m", "<param>.v", plain
  std::map<std::string, std::string> meta;     // optional: optimizer kind, step, epoch, rng, ...
  Calibration calibration;                     // optional: int8 calibration (inkwell-quantize)
};

void save_model_file(const std::string& path, const ModelFile& model);
ModelFile load_model_file(const std::string& path);

// Bounds every loaded model is held to (docs/model-format.md): trained values are far inside them,
// and a value past them would overflow or divide into NaN rows.
inline constexpr float kMaxStoredValue = 1e6f;  // weights, biases, batch norm statistics
inline constexpr float kMaxNormalizationMean = 1e4f, kMinNormalizationStd = 1e-4f, kMaxNormalizationStd = 1e4f;

// Class names as a model may carry them: at least 2, each a valid class name (check_class_name,
// data/image_dataset.hpp), no two alike. Throws naming `path` and the name's index.
void check_class_names(const std::vector<std::string>& classes, const std::string& path);

// That a model fits the data it is given: `input` (C, H, W) images and, unless 0, `classes`
// classes. Throws naming the model's `path` and the data.
void check_model_fits(const ModelFile& m, const std::string& path, const Dims& input, size_t classes,
                      const std::string& data);
// The same from a file's bytes; errors name `source`. Nothing is trusted before it is checked:
// sizes against the bytes there, the spec against its bounds, tensors against the spec.
ModelFile parse_model_file(std::span<const uint8_t> bytes, const std::string& source);

// The one check every model is held to, however it arrived (.inkw, ONNX import): its spec within
// bounds, its tensors exactly the spec's, finite and within kMaxStoredValue, a classifier ending
// in an fc with one output per class name, the class names, the calibration against the layers,
// the normalisation and the preprocessing style. Throws naming `path`.
void check_model(const ModelFile& m, const std::string& path);

// How the model's training data drew characters into 28x28 (metadata "preprocessing"): what
// classification applies to real-world images. Files that do not record it: mnist.
PreprocessStyle preprocess_style(const ModelFile& model);

}  // namespace inkwell
