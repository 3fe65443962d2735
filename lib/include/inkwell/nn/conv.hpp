// Convolution, optionally with a fused ReLU.
//   forward:  src (N, IC, H, W) -> dst (N, OC, OH, OW), OH = (H + 2*pad - K) / stride + 1
//   backward: diff_dst (N, OC, OH, OW) -> diff_src (N, IC, H, W), diff_weights, diff_bias
// With fused ReLU, dst is post-activation and backward starts with a ReLU backward on dst,
// unless relu_backward_in_next: then the next layer (a max pool) applies it (see max_pool.hpp).
// In an int8 plan (quantization.hpp), inference runs u8/s8 src x s8 weights -> u8 or f32 dst.
// In a bf16 plan (bf16.hpp), it computes in bf16 from f32 master weights, f32 in and out.
#pragma once

#include "inkwell/nn/layer.hpp"

namespace inkwell {

class Conv : public Layer {
 public:
  Conv(std::string name, int64_t out_channels, int64_t kernel, int64_t pad, int64_t stride,
       bool fuse_relu, bool relu_backward_in_next = false);

  dnnl::memory build_forward(BuildContext& ctx, const dnnl::memory& src) override;
  dnnl::memory build_backward(BuildContext& ctx, const dnnl::memory& diff_dst,
                              bool need_diff_src) override;
  dnnl::memory input() const override { return src_; }

 private:
  dnnl::memory build_int8_forward(BuildContext& ctx, const dnnl::memory& src, const Int8Layer& q);
  dnnl::memory build_bf16_backward(BuildContext& ctx, const dnnl::memory& diff_out, bool need_diff_src);

  int64_t out_channels_, kernel_, pad_, stride_;
  bool fuse_relu_, relu_backward_in_next_;
  bool bf16_ = false;  // computes in bf16 (bf16.hpp)
  dnnl::convolution_forward::primitive_desc fwd_pd_;
  dnnl::memory src_, weights_, dst_, diff_weights_, diff_bias_;
  dnnl::memory::dims src_dims_, weights_dims_, dst_dims_;
};

}  // namespace inkwell
