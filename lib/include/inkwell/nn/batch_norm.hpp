// Batch normalisation over channels, as PyTorch's BatchNorm2d / BatchNorm1d (eps 1e-5,
// momentum 0.1), with oneDNN's batch_normalization primitives.
//   forward (train):  src (N, C[, H, W]) -> dst = scale * (src - mean_B) / sqrt(var_B + eps) + shift,
//                     mean_B and var_B over the batch (and H, W); then running_mean and running_var
//                     (unbiased) move 10% of the way to them.
//   forward (infer):  the same with running_mean and running_var.
//   backward:         diff_dst -> diff_src, diff_scale, diff_shift (through the batch statistics).
// A following ReLU is fused (fuse_norm_relu; its backward uses the primitive's workspace).
// Every row of a training batch enters the statistics: the training loop fills short batches
// with real images (train.hpp), never with stale or zero rows.
#pragma once

#include "inkwell/nn/layer.hpp"

namespace inkwell {

class BatchNorm : public Layer {
 public:
  BatchNorm(std::string name, bool fuse_relu) : Layer(std::move(name)), fuse_relu_(fuse_relu) {}
  dnnl::memory build_forward(BuildContext& ctx, const dnnl::memory& src) override;
  dnnl::memory build_backward(BuildContext& ctx, const dnnl::memory& diff_dst, bool need_diff_src) override;

  static constexpr float kEpsilon = 1e-5f, kMomentum = 0.1f;

 private:
  bool fuse_relu_;
  dnnl::batch_normalization_forward::primitive_desc fwd_pd_;
  dnnl::memory src_, dst_, mean_, variance_, workspace_, scale_, shift_, diff_scale_, diff_shift_;
};

}  // namespace inkwell
