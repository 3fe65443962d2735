// Architecture specs: a network is a short string of layers joined by '-', e.g. the seed model
//   conv16k5p2-relu-maxpool2-conv32k5p2-relu-maxpool2-fc10
// Layers:
//   conv<OC>k<K>[p<P>][s<S>]  convolution, OC output channels, KxK kernel, padding P, stride S
//   maxpool<K>[s<S>]          max pooling, KxK window, stride S (default K)
//   avgpool<K>[s<S>]          average pooling, the same
//   fc<OC>                    inner product (fully connected) with OC outputs
//   relu                      ReLU (fused into a preceding conv, fc or bn)
//   bn                        batch normalisation over channels (running statistics for inference)
//   dropout<P>                dropout of P percent (1-99) in training, identity in inference
// What each kind is and does is one row of the table in layer_kinds.hpp.
// Presets name common specs: "seed" is the PyTorch reference model of shared/design/targets.md;
// "fast" has half its channels (models/default.inkw, for classification throughput); "best" is the
// accurate one (batch norm, dropout; inkwell-train gives it its own recipe, recipe.hpp).
#pragma once

#include <string>
#include <vector>

#include "inkwell/core/tensor.hpp"

namespace inkwell {

struct LayerSpec {
  enum class Kind { conv, maxpool, avgpool, fc, relu, bn, dropout };  // layer_kinds.hpp: one row each
  Kind kind;
  int64_t out = 0;     // output channels / features (conv, fc); percent dropped (dropout)
  int64_t kernel = 0;  // conv, pools
  int64_t pad = 0;     // conv
  int64_t stride = 1;  // conv, pools
};

// What a spec may ask for, from a command line or a model file somebody sent: anything larger is
// refused before a byte is allocated for it.
inline constexpr int64_t kMaxSpecWidth = 65536;                // conv channels, fc outputs, input sides
inline constexpr int64_t kMaxSpecKernel = 64;                  // kernel and stride of conv and pools
inline constexpr size_t kMaxSpecLayers = 256;
inline constexpr int64_t kMaxSpecParameters = int64_t{1} << 28;  // 1 GiB of f32
inline constexpr int64_t kMaxSpecActivations = int64_t{1} << 22;  // per image and layer: 16 MiB of f32

// The output side of a KxK window with padding P and stride S over `in` pixels: the one formula
// that shape inference and the layers use (a trailing row or column that fills no window is
// dropped). The reference net (check/) keeps its own, to check this one.
inline int64_t window_output_size(int64_t in, int64_t kernel, int64_t pad, int64_t stride) {
  return (in + 2 * pad - kernel) / stride + 1;
}

// Throws inkwell::Error naming the offending token.
std::vector<LayerSpec> parse_spec(const std::string& spec);
std::string to_string(const LayerSpec& layer);

// The name each layer's tensors carry, in spec order: "conv1", "fc2", "bn1" (numbered per kind
// from 1); empty for layers without parameters (pools, ReLUs, dropout).
// layer_names: every layer's name, the others too ("pool1", "relu2", numbered per kind). Model, model files,
// state_shapes and the int8 and bf16 plans all name layers this way.
std::vector<std::string> parameter_layer_names(const std::vector<LayerSpec>& layers);
std::vector<std::string> layer_names(const std::vector<LayerSpec>& layers);

// A preset name ("seed") or a spec string -> the spec string.
std::string resolve_spec(const std::string& name_or_spec);
std::vector<std::string> preset_names();  // seed, fast, best

// `spec` with its last layer, an fc, giving `outputs` outputs (a preset for 26 letters).
std::string with_outputs(const std::string& spec, int64_t outputs);

// A network: its layers and the shape of one input image (C, H, W).
struct Architecture {
  std::string spec;
  Dims input = {1, 28, 28};
};

// The tensors a model of `arch` holds, in Model::state() order (parameters layer by layer, then
// batch norm's buffers), with their plain dims: shape inference only, nothing is built. Throws
// if a layer does not fit its input or the network is beyond the bounds above.
struct NamedDims {
  std::string name;
  Dims dims;
};
std::vector<NamedDims> state_shapes(const Architecture& arch);

// The same walk, layer by layer, for a model summary (inkwell-info).
struct LayerSummary {
  std::string layer;  // its spec token, "conv16k5p2"
  Dims output;        // one image's output, (C, H, W) or (N)
  int64_t parameters; // trained values it holds (batch norm's running statistics not counted)
  double flops;       // per image: conv and fc multiply-adds x 2 (pool, bn, relu not counted)
};
struct ArchitectureShapes {
  std::vector<NamedDims> state;
  std::vector<LayerSummary> layers;
};
ArchitectureShapes describe(const Architecture& arch);

}  // namespace inkwell
