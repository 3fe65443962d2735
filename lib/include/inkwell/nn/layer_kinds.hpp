// The table of layer kinds: everything inkwell knows about a kind of layer, in one row. Spec
// parsing and printing (spec.hpp), shape inference and the model file's checks (state_shapes,
// describe), model building (Model), the int8 plan (quantization.hpp) and ONNX import read it;
// none of them lists kinds of its own. A new kind is a row here and a Layer class in a file of
// its own (its backward checked by tests/test_layers.cpp and the self-test's reference net).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "inkwell/nn/layer.hpp"
#include "inkwell/nn/spec.hpp"

namespace inkwell {

// What the number right after a layer's token is: conv16 (out), maxpool2 (kernel), dropout40 (percent).
enum class SpecNumber { none, out, kernel, percent };

// How a layer is built: its name, and the ReLU fusion around it (Model fuses a ReLU into the
// layer before it when that layer's kind allows).
struct LayerBuild {
  std::string name;               // conv1, fc2, bn1 (parameter layers) or pool1, relu2, ...
  bool relu = false;              // a ReLU follows and is fused into this layer
  bool relu_backward_next = false;  // ... and the next layer takes that ReLU's backward
  bool after_relu = false;        // this layer takes the previous layer's ReLU backward
};

// A layer's tensors for one image's input: parameters (trained), then buffers (batch norm's
// running statistics), each named "<layer name>.<tensor>".
struct LayerTensors {
  std::vector<NamedDims> parameters, buffers;
};

struct LayerKind {
  LayerSpec::Kind kind;
  const char* token;      // "conv"; the spec token starts with it (relu and bn are nothing else)
  SpecNumber number;
  const char* suffixes;   // the letter options after the number: k kernel, p padding, s stride
  const char* prefix;     // the name of its layers: conv -> conv1, conv2, ...
  bool parameters;        // holds trained tensors (numbered per kind in spec order: conv1, bn1)
  bool changes_shape;     // maps (C, H, W) to another shape: what a classifier ends in
  bool fuses_relu;        // a following ReLU runs inside it (post-op or flag)
  bool takes_relu_backward;  // after a conv with a fused ReLU, it does that ReLU's backward
  bool int8;              // runs in int8 with a calibration (quantization.hpp): conv, fc
  bool int8_scale_passes; // its output's range is its input's (a max keeps the largest value), so
                          // a u8 output scaled for the int8 layer after it may feed it; an
                          // average narrows the range, and its input would clip at that scale
  // One image's output shape for input `in` (C, H, W) or (F); throws naming the spec if it does not fit.
  Dims (*output)(const LayerSpec& l, const Dims& in, const std::string& spec);
  // Its tensors for input `in`, named after `name` (empty: none).
  LayerTensors (*tensors)(const LayerSpec& l, const Dims& in, const std::string& name);
  // Multiply-adds x 2 per image (0 for the kinds whose cost is memory traffic).
  double (*flops)(const LayerSpec& l, const Dims& in, const Dims& out);
  std::unique_ptr<Layer> (*make)(const LayerSpec& l, const LayerBuild& b);
};

// Whether layer i runs the ReLU after it inside itself (the model's one fusion rule, which the
// int8 plan follows too).
bool relu_fused_into(const std::vector<LayerSpec>& specs, size_t i);

// Every kind, in the order errors list them.
std::span<const LayerKind> layer_kinds();
const LayerKind& layer_kind(LayerSpec::Kind kind);

}  // namespace inkwell
