// What layers use while a model is being built: the engine, the parameter arena, and the two
// flat lists of (primitive, args) the model executes in order, forward then backward.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "inkwell/nn/bf16.hpp"
#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/nn/params.hpp"
#include "inkwell/nn/quantization.hpp"

namespace inkwell {

// One step of a net: a oneDNN primitive with its arguments, or an inkwell kernel (`kernel` set).
// Every primitive runs with a user scratchpad (docs/design.md): its descriptor is kept here and
// the model binds one shared buffer to all of them after building.
struct Op {
  dnnl::primitive primitive;
  std::unordered_map<int, dnnl::memory> args;
  dnnl::memory::desc scratchpad;
  std::string name;  // "conv1 forward"
  std::string impl;  // oneDNN implementation, e.g. "jit:avx2", or "inkwell:..." for a kernel
  std::function<void()> kernel;
  // What the primitive reports for each argument (query exec_arg_md), which every argument must
  // match exactly: check_args.
  std::unordered_map<int, dnnl::memory::desc> wants;
};
using OpList = std::vector<Op>;

// Throws, naming the op and the argument, unless every argument of a primitive op has the
// descriptor its primitive reports for it (layout, data type, and any extra such as int8
// compensation). Kernels are not checked: they read their own layouts from the descriptors.
void check_args(const Op& op);

// A tensor a layer keeps across steps without training it: batch norm's running statistics.
// Model::state() lists buffers after the parameters, so checkpoints carry them.
struct Buffer {
  std::string name;     // "bn1.running_mean"
  dnnl::memory memory;  // plain f32 (C)
  float initial = 0;    // value after Model::init_params
  float* data() const { return static_cast<float*>(memory.get_data_handle()); }
  int64_t size() const { return static_cast<int64_t>(memory.get_desc().get_size() / sizeof(float)); }
};

// An f32 descriptor that lets the primitive choose the layout (format_tag::any).
inline dnnl::memory::desc any_layout(const dnnl::memory::dims& dims) {
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::any);
}

class BuildContext {
 public:
  BuildContext(dnnl::engine engine, bool training, int threads, ParamArena& params, const uint64_t* noise_key,
               const Int8Plan* int8 = nullptr, const Bf16Plan* bf16 = nullptr)
      : engine(std::move(engine)), training(training), threads(threads), params(params), noise_key(noise_key),
        int8(int8), bf16(bf16) {}

  dnnl::engine engine;
  bool training;  // forward_training + backward, or forward_inference only
  int threads;    // OpenMP threads, fixed at build time like oneDNN's (inkwell kernels use it too)
  ParamArena& params;
  const uint64_t* noise_key;  // the model's current step key, which dropout draws its mask from
  const Int8Plan* int8;        // inference: which layers run in int8 (none when null)
  const Bf16Plan* bf16;        // training: which layers compute in bf16 (none when null)
  OpList forward, backward;
  std::vector<Buffer> buffers;
  // Run after the parameters are loaded or initialised: int8 layers quantise their weights here.
  std::vector<std::function<void()>> prepare;

  bool bf16_layer(const std::string& layer) const { return bf16 && bf16->layers.count(layer); }

  // The plan for `layer` when it runs in int8, else null.
  const Int8Layer* int8_layer(const std::string& layer) const {
    if (!int8) return nullptr;
    const auto it = int8->layers.find(layer);
    return it == int8->layers.end() ? nullptr : &it->second;
  }

  dnnl::prop_kind forward_prop() const {
    return training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  }
  // Attributes every primitive is created with: user scratchpad mode, and optionally a ReLU
  // post-op (conv and inner product fuse the ReLU that follows them).
  dnnl::primitive_attr attr(bool fuse_relu = false) const;

  // Creates the primitive for `pd` and appends it to `ops`.
  void append(OpList& ops, const std::string& name, const dnnl::primitive_desc_base& pd,
              std::unordered_map<int, dnnl::memory> args);

  // Appends an inkwell kernel (for what oneDNN does slowly; docs/performance.md).
  void append_kernel(OpList& ops, const std::string& name, const std::string& impl, std::function<void()> kernel) {
    ops.push_back(Op{{}, {}, {}, name, impl, std::move(kernel), {}});
  }

  // Appends the ops that reorder `from` into `to` (nn/reorder.hpp: one oneDNN reorder, or an
  // inkwell placement and a oneDNN conversion), multiplying by `factors` if given.
  void append_reorder(OpList& ops, const std::string& name, const dnnl::memory& from, const dnnl::memory& to,
                      const std::vector<float>& factors = {});

  // Like append, but the output argument `out_arg` ends up in `out`: directly when the primitive
  // produces out's layout, else through a temporary and a reorder (diff_weights into the arena).
  void append_into(OpList& ops, const std::string& name, const dnnl::primitive_desc_base& pd,
                   std::unordered_map<int, dnnl::memory> args, int out_arg, const dnnl::memory& out,
                   const dnnl::memory::desc& produced);

  // Returns `from` if it already has layout `want`; otherwise a new memory with layout `want`
  // and a reorder from `from` appended to `ops`.
  dnnl::memory convert(OpList& ops, const std::string& name, const dnnl::memory& from,
                       const dnnl::memory::desc& want);

  // The forward op of a layer with weights and bias (conv, inner product): registers both in the
  // arena in the layouts `pd` chose, converts src to pd's layout, allocates dst, appends the op.
  struct WeightedForward {
    dnnl::memory src, weights, dst, diff_weights, diff_bias;
  };
  WeightedForward append_weighted_forward(const std::string& layer, const dnnl::primitive_desc& pd,
                                          const dnnl::memory& src, const Dims& weights_dims, int64_t fan_in);

  // The same for an int8 layer (`pd` built with compat::set_int8_scales, whose arguments are
  // `scale_args`): the arena keeps the f32 weights and bias in plain layouts, as the model file
  // has them, and `prepare` quantises them into the s8 weights and bias `pd` takes. src is
  // quantised at q.src_scale if it comes in f32. Returns dst.
  // `channels_last`: see append_flat_forward.
  dnnl::memory append_int8_weighted_forward(const std::string& layer, const dnnl::primitive_desc& pd,
                                            const dnnl::memory& src, const Dims& weights_dims, int64_t fan_in,
                                            const Int8Layer& q, compat::ScaleArgs scale_args,
                                            bool channels_last = false);

  // The forward op of an f32 inference layer whose primitive takes its input flattened to 2-D
  // (inner product; `src` is that 2-D view): the arena keeps the (OC, C, H, W) weights and the
  // bias plain, as the model file has them, and `prepare` writes them into the (OC, K) weights
  // and the bias `pd` takes, with the channels last when `channels_last` (an nhwc input
  // flattens to (H, W, C)). Returns dst.
  dnnl::memory append_flat_forward(const std::string& layer, const dnnl::primitive_desc& pd, const dnnl::memory& src,
                                   const Dims& weights_dims, int64_t fan_in, bool channels_last);

  // The same for a bf16 layer: the arena keeps f32 master weights and bias in plain layouts;
  // each forward first converts the weights to the bf16 copy `pd` reads (returned in
  // `weights`), and src is converted to bf16. Returns the f32 dst.
  WeightedForward append_bf16_weighted_forward(const std::string& layer, const dnnl::primitive_desc& pd,
                                               const dnnl::memory& src, const Dims& weights_dims, int64_t fan_in);

  // Like convert, but multiplying by `factor` on the way (f32 <-> int8).
  dnnl::memory convert_scaled(OpList& ops, const std::string& name, const dnnl::memory& from,
                              const dnnl::memory::desc& want, float factor);

  // The backward-weights op of a layer with weights: converts src and diff_dst to the layouts
  // `pd` wants and writes the gradients into the arena (through append_into).
  void append_backward_weights(const std::string& layer, const dnnl::primitive_desc& pd, const dnnl::memory& src,
                               const dnnl::memory& diff_dst, const dnnl::memory& diff_weights,
                               const dnnl::memory& diff_bias);

  // The backward-data op of a layer with weights: converts weights and diff_dst to the layouts
  // `pd` wants, appends the op, returns diff_src.
  dnnl::memory append_backward_data(const std::string& layer, const dnnl::primitive_desc& pd,
                                    const dnnl::memory& weights, const dnnl::memory& diff_dst);

  // A fresh memory for a descriptor, allocated by oneDNN.
  dnnl::memory allocate(const dnnl::memory::desc& desc) const { return dnnl::memory(desc, engine); }
};

}  // namespace inkwell
