// ONNX in and out (docs/model-format.md, "ONNX"). A model from PyTorch, Keras or a model zoo
// becomes an inkwell ModelFile, held to the same check as an .inkw (check_model), and an inkwell
// model becomes an ONNX file that ONNX Runtime and OpenCV dnn run.
//
// Import reads the chain from the graph's one input to its one output, through Conv, Relu,
// MaxPool, AveragePool, Gemm, MatMul + Add, QuantizeLinear/DequantizeLinear pairs around Conv and
// Gemm (QDQ int8, as ONNX Runtime's quantiser and PyTorch write it: the calibration, per-tensor
// or per-channel weight scales), BatchNormalization (folded into the conv before it,
// else a bn layer; never folded in a file inkwell wrote, so the round trip is exact), Flatten and Reshape (to 2-D, before an fc), Dropout and Identity (dropped),
// and a Softmax or LogSoftmax at the end (dropped: inkwell applies its own). The shape
// computation PyTorch emits for x.view(x.size(0), -1) (Shape, Gather, Unsqueeze, Concat,
// Constant) only feeds a Reshape's shape and is left aside. Anything else is an error naming the
// node, its op and what inkwell supports. The file is parsed by Debian's libonnx (protobuf
// classes), checked by its checker and shape inference, then mapped through the layer table.
//
// Conventions: the graph takes the normalised image, float32 (N, C, H, W) with a dynamic batch,
// as torchvision's Normalize hands it over. The normalisation, class names and preprocessing
// style travel in metadata_props when inkwell wrote the file ("inkwell.normalization" = "MEAN
// STD", "inkwell.classes" = names joined by newlines, "inkwell.preprocessing"); otherwise they
// come from OnnxImportOptions, with MNIST's normalisation and classes "0", "1", ... by default.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "inkwell/model_file/model_file.hpp"

namespace inkwell {

struct OnnxImportOptions {
  std::optional<Normalization> normalization;  // default: the file's, else MNIST's (0.1307, 0.3081)
  std::vector<std::string> classes;            // default: the file's, else "0", "1", ...
  std::optional<PreprocessStyle> style;        // default: the file's, else mnist
};

// MNIST's normalisation, torchvision's Normalize((0.1307,), (0.3081,)): an ONNX model's default.
inline constexpr Normalization kMnistNormalization{0.1307f, 0.3081f};

// The largest ONNX file read: the largest network a spec allows, in f32, and 64 MiB to spare.
inline constexpr uint64_t kMaxOnnxFileBytes = sizeof(float) * kMaxSpecParameters + (64 << 20);

// ONNX bytes -> a checked ModelFile. Throws an Error naming `source` (and the node, if one is at fault).
ModelFile import_onnx(std::span<const uint8_t> bytes, const std::string& source, const OnnxImportOptions& options = {});

// A checked ModelFile -> ONNX bytes (opset 13), which onnx's checker accepts: input "input"
// (batch, C, H, W), output "logits" (batch, classes), inkwell's metadata in metadata_props.
// Weights are written as they are, so .inkw -> .onnx -> .inkw keeps them bit for bit. A
// calibrated model is written as QDQ: QuantizeLinear -> DequantizeLinear on each conv and fc's
// input (int8 for a signed range, else uint8; zero point 0) and on its float weights (int8,
// per output channel), from which import takes the calibration back.
std::string export_onnx(const ModelFile& model);
void save_onnx(const std::string& path, const ModelFile& model);  // atomically

// A model file by its name: *.onnx imported (with `options`), anything else read as .inkw.
bool is_onnx_path(const std::string& path);
ModelFile load_model(const std::string& path, const OnnxImportOptions& options = {});
void save_model(const std::string& path, const ModelFile& model);

}  // namespace inkwell
