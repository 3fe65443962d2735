// Architecture specs: a network is a short string of layers joined by '-', e.g. the seed model
//   conv16k5p2-relu-maxpool2-conv32k5p2-relu-maxpool2-fc10
// Layers:
//   conv<OC>k<K>[p<P>][s<S>]  convolution, OC output channels, KxK kernel, padding P, stride S
//   maxpool<K>[s<S>]          max pooling, KxK window, stride S (default K)
//   fc<OC>                    inner product (fully connected) with OC outputs
//   relu                      ReLU (fused into a preceding conv, fc or bn)
//   bn                        batch normalisation over channels (running statistics for inference)
//   dropout<P>                dropout of P percent (1-99) in training, identity in inference
// Presets name common specs: "seed" is the PyTorch reference model of shared/design/targets.md;
// "fast" has half its channels (models/default.inkw, for classification throughput); "best" is the
// accurate one (batch norm, dropout; inkwell-train gives it its own recipe, recipe.hpp).
#pragma once

#include <string>
#include <vector>

#include "inkwell/nn/tensor.hpp"

namespace inkwell {

struct LayerSpec {
  enum class Kind { conv, maxpool, fc, relu, bn, dropout };
  Kind kind;
  int64_t out = 0;     // output channels / features (conv, fc); percent dropped (dropout)
  int64_t kernel = 0;  // conv, maxpool
  int64_t pad = 0;     // conv
  int64_t stride = 1;  // conv, maxpool
};

// Throws inkwell::Error naming the offending token.
std::vector<LayerSpec> parse_spec(const std::string& spec);
std::string to_string(const LayerSpec& layer);

// A preset name ("seed") or a spec string -> the spec string.
std::string resolve_spec(const std::string& name_or_spec);

// `spec` with its last layer, an fc, giving `outputs` outputs (a preset for 26 letters).
std::string with_outputs(const std::string& spec, int64_t outputs);

// A network: its layers and the shape of one input image (C, H, W).
struct Architecture {
  std::string spec;
  Dims input = {1, 28, 28};
};

}  // namespace inkwell
