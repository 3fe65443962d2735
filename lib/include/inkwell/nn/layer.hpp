// A layer builds its forward and backward primitives. build_forward runs first for every layer
// in order, then build_backward in reverse order; a layer keeps what backward needs (its forward
// primitive descriptor as hint, src, dst, workspace) between the two.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <string>

#include "inkwell/nn/build_context.hpp"

namespace inkwell {

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }

  // Appends the forward ops reading `src` to ctx.forward; returns dst.
  virtual dnnl::memory build_forward(BuildContext& ctx, const dnnl::memory& src) = 0;
  // Appends the backward ops reading `diff_dst` to ctx.backward, writing the parameter
  // gradients; returns diff_src, or an empty memory when !need_diff_src (the first layer).
  virtual dnnl::memory build_backward(BuildContext& ctx, const dnnl::memory& diff_dst,
                                      bool need_diff_src) = 0;

  // What the layer's forward primitive reads, for calibrating int8 (quantization.hpp): set by
  // the layers that can run in int8 (conv, fc) when built in f32; empty otherwise.
  virtual dnnl::memory input() const { return {}; }

 private:
  std::string name_;
};

}  // namespace inkwell
