// int8 inference: what calibration measured, and which layers run in int8 (docs/int8.md).
//
// A model file may carry a Calibration: for each convolution and inner product, in spec order,
// the range of its input on calibration images and one scale per output channel of its weights.
// plan_int8() turns it, with a requested precision, into a per-layer plan that Model builds:
// int8 layers take u8 activations (s8 where their input can be negative: the normalised image),
// s8 weights and f32 biases, fuse their ReLU, and hand u8 on to the next int8 layer (through the
// layers that keep the range: max pools, layer_kinds.hpp) or f32 to anything else,
// the logits included.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "inkwell/nn/spec.hpp"
#include "inkwell/core/tensor.hpp"

namespace inkwell {

struct LayerCalibration {
  std::string layer;                 // "conv1"
  float lo = 0, hi = 0;              // input range kept by calibration; lo < 0: a signed input
  std::vector<float> weight_scales;  // per output channel: max |w| / 127
};
using Calibration = std::vector<LayerCalibration>;  // conv and fc layers, spec order; empty: none

// The layer names that can be quantised ("conv1", ..., "fc1", ...), in spec order, with their
// output channels.
std::vector<std::pair<std::string, int64_t>> quantizable_layers(const Architecture& arch);

// In the model file: "<layer>.input_range" (lo, hi) and "<layer>.weight_scales" (OC) per layer.
std::vector<NamedTensor> calibration_tensors(const Calibration& q);
// Checks every name, count and value against `arch` (finite, positive scales, lo <= hi, hi > 0);
// throws inkwell::Error naming what is wrong.
Calibration calibration_from_tensors(const std::vector<NamedTensor>& tensors, const Architecture& arch);

enum class Precision { automatic, f32, int8 };
std::string to_string(Precision p);                 // "auto", "f32", "int8"
Precision parse_precision(const std::string& name);  // the same; throws on anything else

// How one layer runs in int8. Scales turn int8 values into real ones: x = scale * q.
struct Int8Layer {
  float src_scale = 1;
  bool src_signed = false;           // s8 src, else u8
  std::vector<float> weight_scales;  // per output channel
  float dst_scale = 0;               // 0: f32 dst; else u8 dst at that scale (the next layer's src scale)
};
struct Int8Plan {
  std::map<std::string, Int8Layer> layers;  // by layer name; a layer not here runs in f32
  std::vector<std::string> notes;           // why layers stay f32, one line each
  std::vector<std::string> warnings;        // layers moved to f32 by the check on this machine (check/plan_check.hpp)
};

// precision f32, or a model without quantization: nothing in int8. int8: every conv and fc that
// oneDNN computes right on this CPU: not one reading a signed input without VNNI (its error
// against f32 was 9-40%, docs/int8.md). automatic: of those, each layer whose int8 kernel this CPU
// and oneDNN version run faster than f32, by the rules measured in docs/int8.md: not at all below
// AVX2; not a one-channel convolution on oneDNN 2.x. Plans are checked against f32 on the machine
// before use all the same (check/plan_check.hpp).
Int8Plan plan_int8(const Architecture& arch, const Calibration& q, Precision precision);

}  // namespace inkwell
