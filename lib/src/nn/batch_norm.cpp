#include "inkwell/nn/batch_norm.hpp"

#include "inkwell/core/error.hpp"
#include "inkwell/nn/dnnl_compat.hpp"

namespace inkwell {

using dnnl::memory;
using flags = dnnl::normalization_flags;

namespace {
flags bn_flags(bool training, bool fuse_relu) {
  flags f = flags::use_scale | flags::use_shift;
  if (!training) f = f | flags::use_global_stats;
  if (fuse_relu) f = f | flags::fuse_norm_relu;
  return f;
}
}  // namespace

// src (N, C[, H, W]), any layout -> dst, same layout
memory BatchNorm::build_forward(BuildContext& ctx, const memory& src) {
  const memory::desc& src_desc = src.get_desc();
  const Dims dims = compat::dims(src_desc);
  if (dims.size() != 2 && dims.size() != 4) throw error(name(), ": needs a 2-D or 4-D input, got ", dims.size(), "-D");
  const int64_t channels = dims[1];
  fwd_pd_ = compat::batch_norm_forward(ctx.engine, ctx.forward_prop(), src_desc, kEpsilon,
                                      bn_flags(ctx.training, fuse_relu_), ctx.attr());

  const Param& scale = ctx.params.add(name() + ".scale", {channels}, plain_desc({channels}), channels, Init::ones);
  const Param& shift = ctx.params.add(name() + ".shift", {channels}, plain_desc({channels}), channels, Init::zeros);
  scale_ = scale.value, shift_ = shift.value, diff_scale_ = scale.grad, diff_shift_ = shift.grad;
  const memory::desc stats = plain_desc({channels});
  const Buffer running_mean{name() + ".running_mean", ctx.allocate(stats), 0.f};
  const Buffer running_var{name() + ".running_var", ctx.allocate(stats), 1.f};
  ctx.buffers.push_back(running_mean);
  ctx.buffers.push_back(running_var);

  src_ = src;
  dst_ = ctx.allocate(fwd_pd_.dst_desc());
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src_}, {DNNL_ARG_DST, dst_}, {DNNL_ARG_SCALE, scale_},
                                          {DNNL_ARG_SHIFT, shift_}};
  if (!ctx.training) {
    args[DNNL_ARG_MEAN] = running_mean.memory;
    args[DNNL_ARG_VARIANCE] = running_var.memory;
    ctx.append(ctx.forward, name() + " forward", fwd_pd_, std::move(args));
    return dst_;
  }
  mean_ = ctx.allocate(fwd_pd_.mean_desc());
  variance_ = ctx.allocate(fwd_pd_.variance_desc());
  args[DNNL_ARG_MEAN] = mean_;
  args[DNNL_ARG_VARIANCE] = variance_;
  if (fuse_relu_) workspace_ = args[DNNL_ARG_WORKSPACE] = ctx.allocate(fwd_pd_.workspace_desc());
  ctx.append(ctx.forward, name() + " forward", fwd_pd_, std::move(args));

  // PyTorch's running statistics: the variance term is unbiased (n - 1).
  const int64_t n = element_count(dims) / channels;
  const float unbias = n > 1 ? static_cast<float>(n) / static_cast<float>(n - 1) : 1.f;
  ctx.append_kernel(ctx.forward, name() + " running stats", "inkwell:scalar",
                    [=, mean = mean_, variance = variance_] {
                      const auto* m = static_cast<const float*>(mean.get_data_handle());
                      const auto* v = static_cast<const float*>(variance.get_data_handle());
                      float* rm = running_mean.data();
                      float* rv = running_var.data();
                      for (int64_t c = 0; c < channels; ++c) {
                        rm[c] += kMomentum * (m[c] - rm[c]);
                        rv[c] += kMomentum * (v[c] * unbias - rv[c]);
                      }
                    });
  return dst_;
}

// diff_dst (N, C[, H, W]) -> diff_src; writes diff_scale, diff_shift
memory BatchNorm::build_backward(BuildContext& ctx, const memory& diff_dst, bool /*need_diff_src*/) {
  const memory dd = ctx.convert(ctx.backward, name() + " diff_dst", diff_dst, dst_.get_desc());
  const auto pd = compat::batch_norm_backward(ctx.engine, dst_.get_desc(), src_.get_desc(), kEpsilon,
                                              bn_flags(true, fuse_relu_), fwd_pd_, ctx.attr());
  const memory diff_src = ctx.allocate(pd.diff_src_desc());
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, src_},           {DNNL_ARG_MEAN, mean_},        {DNNL_ARG_VARIANCE, variance_},
      {DNNL_ARG_DIFF_DST, dd},        {DNNL_ARG_SCALE, scale_},      {DNNL_ARG_DIFF_SRC, diff_src},
      {DNNL_ARG_DIFF_SCALE, diff_scale_}, {DNNL_ARG_DIFF_SHIFT, diff_shift_}};
  if (compat::batch_norm_backward_takes_shift) args[DNNL_ARG_SHIFT] = shift_;
  if (fuse_relu_) args[DNNL_ARG_WORKSPACE] = workspace_;
  ctx.append(ctx.backward, name() + " backward", pd, std::move(args));
  return diff_src;
}

}  // namespace inkwell
