#include "inkwell/nn/conv.hpp"

#include "inkwell/core/error.hpp"
#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/nn/spec.hpp"
#include "inkwell/nn/relu.hpp"

namespace inkwell {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

Conv::Conv(std::string name, int64_t out_channels, int64_t kernel, int64_t pad, int64_t stride,
           bool fuse_relu, bool relu_backward_in_next)
    : Layer(std::move(name)),
      out_channels_(out_channels), kernel_(kernel), pad_(pad), stride_(stride),
      fuse_relu_(fuse_relu), relu_backward_in_next_(relu_backward_in_next) {}

// src (N, IC, H, W) -> dst (N, OC, OH, OW)
memory Conv::build_forward(BuildContext& ctx, const memory& src) {
  src_dims_ = compat::dims(src.get_desc());
  if (src_dims_.size() != 4) throw error(name(), ": needs a 4-D (N, C, H, W) input, got ", src_dims_.size(), "-D");
  const int64_t n = src_dims_[0], ic = src_dims_[1], h = src_dims_[2], w = src_dims_[3];
  const int64_t oh = window_output_size(h, kernel_, pad_, stride_);
  const int64_t ow = window_output_size(w, kernel_, pad_, stride_);
  if (oh < 1 || ow < 1) throw error(name(), ": kernel ", kernel_, " does not fit a ", h, "x", w, " input");
  weights_dims_ = {out_channels_, ic, kernel_, kernel_};
  dst_dims_ = {n, out_channels_, oh, ow};
  if (const Int8Layer* q = ctx.int8_layer(name())) return build_int8_forward(ctx, src, *q);
  const memory::dims strides = {stride_, stride_}, padding = {pad_, pad_};
  if (ctx.bf16_layer(name())) {
    // bf16 src and weights, f32 bias and dst (the layers around stay f32), fused ReLU.
    bf16_ = true;
    fwd_pd_ = compat::conv_forward(ctx.engine, ctx.forward_prop(), memory::desc(src_dims_, dt::bf16, tag::any),
                                   memory::desc(weights_dims_, dt::bf16, tag::any), any_layout({out_channels_}),
                                   any_layout(dst_dims_), strides, padding, ctx.attr(fuse_relu_));
    const auto f = ctx.append_bf16_weighted_forward(name(), fwd_pd_, src, weights_dims_, ic * kernel_ * kernel_);
    src_ = f.src, weights_ = f.weights, dst_ = f.dst, diff_weights_ = f.diff_weights, diff_bias_ = f.diff_bias;
    return dst_;
  }

  fwd_pd_ = compat::conv_forward(ctx.engine, ctx.forward_prop(), any_layout(src_dims_), any_layout(weights_dims_),
                                 any_layout({out_channels_}), any_layout(dst_dims_), strides, padding,
                                 ctx.attr(fuse_relu_));

  const auto f = ctx.append_weighted_forward(name(), fwd_pd_, src, weights_dims_, ic * kernel_ * kernel_);
  src_ = f.src, weights_ = f.weights, dst_ = f.dst, diff_weights_ = f.diff_weights, diff_bias_ = f.diff_bias;
  return dst_;
}

// bf16 backward: the gradient converted to bf16 once for both ops; weight gradients in f32 into
// the arena (f32 master weights), diff_src in f32 for the f32 layer before.
memory Conv::build_bf16_backward(BuildContext& ctx, const memory& diff_out, bool need_diff_src) {
  const memory::dims strides = {stride_, stride_}, padding = {pad_, pad_};
  const auto bwd_weights_pd = compat::conv_backward_weights(
      ctx.engine, memory::desc(src_dims_, dt::bf16, tag::any), any_layout(weights_dims_), any_layout({out_channels_}),
      memory::desc(dst_dims_, dt::bf16, tag::any), strides, padding, fwd_pd_, ctx.attr());
  const memory diff_bf16 = ctx.convert(ctx.backward, name() + " diff_dst bf16", diff_out, bwd_weights_pd.diff_dst_desc());
  ctx.append_backward_weights(name(), bwd_weights_pd, src_, diff_bf16, diff_weights_, diff_bias_);
  if (!need_diff_src) return memory();
  const auto bwd_data_pd = compat::conv_backward_data(
      ctx.engine, any_layout(src_dims_), memory::desc(weights_dims_, dt::bf16, tag::any),
      memory::desc(dst_dims_, dt::bf16, tag::any), strides, padding, fwd_pd_, ctx.attr());
  return ctx.append_backward_data(name(), bwd_data_pd, weights_, diff_bf16);
}

// The same in int8: src quantised (u8 after a ReLU, s8 otherwise), s8 weights, dst u8 when the
// next layer takes int8, else f32.
memory Conv::build_int8_forward(BuildContext& ctx, const memory& src, const Int8Layer& q) {
  const memory::dims strides = {stride_, stride_}, padding = {pad_, pad_};
  dnnl::primitive_attr attr = ctx.attr(fuse_relu_);
  compat::ScaleArgs scales = compat::set_int8_scales(attr, ctx.engine, q.src_scale, q.weight_scales, q.dst_scale);
  fwd_pd_ = compat::conv_forward(
      ctx.engine, dnnl::prop_kind::forward_inference, memory::desc(src_dims_, q.src_signed ? dt::s8 : dt::u8, tag::any),
      memory::desc(weights_dims_, dt::s8, tag::any), any_layout({out_channels_}),
      memory::desc(dst_dims_, q.dst_scale != 0 ? dt::u8 : dt::f32, tag::any), strides, padding, attr);
  dst_ = ctx.append_int8_weighted_forward(name(), fwd_pd_, src, weights_dims_, src_dims_[1] * kernel_ * kernel_, q,
                                          std::move(scales));
  return dst_;
}

// diff_dst (N, OC, OH, OW) -> diff_src (N, IC, H, W); writes diff_weights, diff_bias
memory Conv::build_backward(BuildContext& ctx, const memory& diff_dst, bool need_diff_src) {
  const memory::dims strides = {stride_, stride_}, padding = {pad_, pad_};
  memory diff_out = ctx.convert(ctx.backward, name() + " diff_dst", diff_dst, dst_.get_desc());
  if (fuse_relu_ && !relu_backward_in_next_) diff_out = append_relu_backward(ctx, name(), dst_, diff_out);
  if (bf16_) return build_bf16_backward(ctx, diff_out, need_diff_src);

  // Weights and bias gradients. With one input channel, `any` picks a src padded to 8 channels
  // and runs 3.5x slower than the nhwc kernel (docs/performance.md); nchw and nhwc are then the
  // same bytes, so src is viewed as nhwc without a copy.
  const bool one_channel = src_dims_[1] == 1 && src_.get_desc() == memory::desc(src_dims_, dt::f32, tag::abcd);
  const memory::desc nhwc_src(src_dims_, dt::f32, tag::acdb), nhwc_dst(dst_dims_, dt::f32, tag::acdb);
  const auto bwd_weights_pd = compat::conv_backward_weights(
      ctx.engine, one_channel ? nhwc_src : any_layout(src_dims_), any_layout(weights_dims_),
      any_layout({out_channels_}), one_channel ? nhwc_dst : any_layout(dst_dims_), strides, padding, fwd_pd_,
      ctx.attr());
  ctx.append_backward_weights(name(), bwd_weights_pd, one_channel ? memory(nhwc_src, ctx.engine, src_.get_data_handle()) : src_,
                              diff_out, diff_weights_, diff_bias_);
  if (!need_diff_src) return memory();

  // Data gradient. It prefers another weights layout than forward: one reorder per step.
  const auto bwd_data_pd = compat::conv_backward_data(ctx.engine, any_layout(src_dims_), any_layout(weights_dims_),
                                                      any_layout(dst_dims_), strides, padding, fwd_pd_, ctx.attr());
  return ctx.append_backward_data(name(), bwd_data_pd, weights_, diff_out);
}

}  // namespace inkwell
