// Inner product (fully connected), optionally with a fused ReLU. In training a 4-D src is used as
// is, with 4-D weights (OC, C, H, W): no flatten, and the (C, H, W) order matches PyTorch's
// flatten. In inference a dense nchw or nhwc src is taken as the 2-D rows it is in memory, and
// the weights are permuted to match when they are loaded (inner_product.cpp: why).
//   forward:  src (N, C[, H, W]) -> dst (N, OC)
//   backward: diff_dst (N, OC) -> diff_src (N, C[, H, W]), diff_weights, diff_bias
// In an int8 plan (quantization.hpp), inference runs u8/s8 src x s8 weights -> u8 or f32 dst.
#pragma once

#include "inkwell/nn/layer.hpp"

namespace inkwell {

class InnerProduct : public Layer {
 public:
  InnerProduct(std::string name, int64_t outputs, bool fuse_relu);

  dnnl::memory build_forward(BuildContext& ctx, const dnnl::memory& src) override;
  dnnl::memory build_backward(BuildContext& ctx, const dnnl::memory& diff_dst,
                              bool need_diff_src) override;
  dnnl::memory input() const override { return src_; }

 private:
  dnnl::memory build_int8_forward(BuildContext& ctx, const dnnl::memory& src, const Int8Layer& q, int64_t fan_in);

  int64_t outputs_;
  bool fuse_relu_;
  dnnl::inner_product_forward::primitive_desc fwd_pd_;
  dnnl::memory src_, weights_, dst_, diff_weights_, diff_bias_;
  dnnl::memory::dims src_dims_, weights_dims_;
};

}  // namespace inkwell
