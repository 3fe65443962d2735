// Max pooling, no padding (a trailing row/column that does not fill a window is dropped).
//   forward:  src (N, C, H, W) -> dst (N, C, (H - K) / S + 1, (W - K) / S + 1)
//   backward: diff_dst -> diff_src, routed to each window's first maximum (row-major), found
//             again by comparing src with dst: no workspace
//
// An inkwell kernel, not a oneDNN primitive: oneDNN 2.6's AVX2 max pooling with workspace takes
// 1.1 ms forward + 0.9 ms backward on the seed's 64x16x28x28 tensor (docs/performance.md). It works on
// channel-blocked layouts (N, C/B, H, W, B) with B = 8 or 16 (oneDNN's aBcd8b, aBcd16b, which
// convolutions produce), and on nhwc with C a multiple of 8 (one block of C channels); any other
// src layout (nchw input, say) is reordered to aBcd8b first. An int8 src (int8 inference,
// quantization.hpp) goes to oneDNN's int8 pooling instead.
//
// after_relu: src is the output of a ReLU whose backward the pool takes over. ReLU and max pooling
// commute, so masking the routed gradient where the window's max is 0 is exactly ReLU backward
// followed by pool backward, and saves a pass over the larger tensor.
#pragma once

#include "inkwell/nn/layer.hpp"

namespace inkwell {

class MaxPool : public Layer {
 public:
  MaxPool(std::string name, int64_t kernel, int64_t stride, bool after_relu = false);

  dnnl::memory build_forward(BuildContext& ctx, const dnnl::memory& src) override;
  dnnl::memory build_backward(BuildContext& ctx, const dnnl::memory& diff_dst,
                              bool need_diff_src) override;

  // Geometry of a channel-blocked tensor pair, shared by the kernels.
  struct Shape {
    int64_t planes;  // N * C/B
    int64_t h, w, oh, ow;
    int64_t block;   // B: 8, 16, or C for nhwc (a multiple of 8)
  };

 private:
  int64_t kernel_, stride_;
  bool after_relu_;
  Shape shape_{};
  std::string layout_name_;  // "b8", "b16", "nhwc"
  dnnl::memory src_, dst_;
};

}  // namespace inkwell
