// Max pooling, no padding (a trailing row/column that does not fill a window is dropped).
//   forward:  src (N, C, H, W) -> dst (N, C, (H - K) / S + 1, (W - K) / S + 1), workspace in training
//   backward: diff_dst -> diff_src, routed to each window's argmax through the workspace
#pragma once

#include "inkwell/layer.hpp"

namespace inkwell {

class MaxPool : public Layer {
 public:
  MaxPool(std::string name, int64_t kernel, int64_t stride);

  dnnl::memory build_forward(BuildContext& ctx, const dnnl::memory& src) override;
  dnnl::memory build_backward(BuildContext& ctx, const dnnl::memory& diff_dst,
                              bool need_diff_src) override;

 private:
  int64_t kernel_, stride_;
  dnnl::pooling_forward::primitive_desc fwd_pd_;
  dnnl::memory src_, dst_, workspace_;
};

}  // namespace inkwell
