// ReLU. Usually fused into the conv or fc before it (see spec.hpp); a standalone ReLU layer exists
// for the other cases. Backward uses dst (relu_use_dst_for_bwd), so it also serves fused ReLUs.
//   forward:  src (any shape) -> dst (same shape, same layout)
//   backward: diff_dst -> diff_src = diff_dst * (dst > 0)
#pragma once

#include "inkwell/nn/layer.hpp"

namespace inkwell {

class Relu : public Layer {
 public:
  using Layer::Layer;
  dnnl::memory build_forward(BuildContext& ctx, const dnnl::memory& src) override;
  dnnl::memory build_backward(BuildContext& ctx, const dnnl::memory& diff_dst,
                              bool need_diff_src) override;

 private:
  dnnl::memory dst_;
};

// Appends the ReLU backward of a post-activation `dst` to ctx.backward; returns diff_src, laid out
// like dst. `diff_dst` must have dst's layout.
dnnl::memory append_relu_backward(BuildContext& ctx, const std::string& name,
                                  const dnnl::memory& dst, const dnnl::memory& diff_dst);

}  // namespace inkwell
