// Average pooling, no padding (a trailing row/column that does not fill a window is dropped):
//   forward:  src (N, C, H, W) -> dst (N, C, (H - K) / S + 1, (W - K) / S + 1), each the mean of its window
//   backward: diff_dst -> diff_src, each window's gradient spread evenly over it (overlapping
//             windows add)
// oneDNN's pooling (pooling_avg_exclude_padding), in whatever layout and data type src comes. In
// an int8 model it gets f32: its input's range is wider than its output's, which is all that
// calibration measures for the layer after it (layer_kinds.hpp: int8_scale_passes).
#pragma once

#include <optional>

#include "inkwell/nn/layer.hpp"

namespace inkwell {

class AvgPool : public Layer {
 public:
  AvgPool(std::string name, int64_t kernel, int64_t stride);

  dnnl::memory build_forward(BuildContext& ctx, const dnnl::memory& src) override;
  dnnl::memory build_backward(BuildContext& ctx, const dnnl::memory& diff_dst, bool need_diff_src) override;

 private:
  int64_t kernel_, stride_;
  std::optional<dnnl::pooling_forward::primitive_desc> forward_pd_;  // backward's hint
  dnnl::memory::desc src_desc_;
};

}  // namespace inkwell
