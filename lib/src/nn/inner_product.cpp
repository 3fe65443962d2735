#include "inkwell/nn/inner_product.hpp"

#include "inkwell/core/error.hpp"
#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/nn/relu.hpp"

namespace inkwell {

using dnnl::memory;

InnerProduct::InnerProduct(std::string name, int64_t outputs, bool fuse_relu)
    : Layer(std::move(name)), outputs_(outputs), fuse_relu_(fuse_relu) {}

// src (N, C[, H, W]) -> dst (N, OC)
memory InnerProduct::build_forward(BuildContext& ctx, const memory& src) {
  src_dims_ = compat::dims(src.get_desc());
  if (src_dims_.size() != 2 && src_dims_.size() != 4)
    throw error(name(), ": needs a 2-D or 4-D input, got ", src_dims_.size(), "-D");
  weights_dims_ = src_dims_;
  weights_dims_[0] = outputs_;
  const int64_t fan_in = element_count(Dims(src_dims_.begin() + 1, src_dims_.end()));

  if (const Int8Layer* q = ctx.int8_layer(name())) return build_int8_forward(ctx, src, *q, fan_in);

  // src keeps the previous layer's layout; the weights layout adapts to it.
  fwd_pd_ = compat::inner_product_forward(ctx.engine, ctx.forward_prop(), src.get_desc(), any_layout(weights_dims_),
                                         any_layout({outputs_}), any_layout({src_dims_[0], outputs_}),
                                         ctx.attr(fuse_relu_));

  const auto f = ctx.append_weighted_forward(name(), fwd_pd_, src, weights_dims_, fan_in);
  src_ = f.src, weights_ = f.weights, dst_ = f.dst, diff_weights_ = f.diff_weights, diff_bias_ = f.diff_bias;
  return dst_;
}

// The same in int8. An int8 src keeps its layout (a u8 max pool's); an f32 one is quantised into
// the layout the primitive picks.
memory InnerProduct::build_int8_forward(BuildContext& ctx, const memory& src, const Int8Layer& q, int64_t fan_in) {
  using dt = memory::data_type;
  const dt src_type = q.src_signed ? dt::s8 : dt::u8;
  const memory::desc src_desc = compat::data_type(src.get_desc()) == src_type
                                    ? src.get_desc()
                                    : memory::desc(src_dims_, src_type, memory::format_tag::any);
  dnnl::primitive_attr attr = ctx.attr(fuse_relu_);
  compat::ScaleArgs scales = compat::set_int8_scales(attr, ctx.engine, q.src_scale, q.weight_scales, q.dst_scale);
  fwd_pd_ = compat::inner_product_forward(ctx.engine, dnnl::prop_kind::forward_inference, src_desc,
                                         memory::desc(weights_dims_, dt::s8, memory::format_tag::any),
                                         any_layout({outputs_}),
                                         memory::desc({src_dims_[0], outputs_}, q.dst_scale != 0 ? dt::u8 : dt::f32,
                                                      memory::format_tag::any),
                                         attr);
  dst_ = ctx.append_int8_weighted_forward(name(), fwd_pd_, src, weights_dims_, fan_in, q, std::move(scales));
  return dst_;
}

// diff_dst (N, OC) -> diff_src (N, C[, H, W]); writes diff_weights, diff_bias
memory InnerProduct::build_backward(BuildContext& ctx, const memory& diff_dst, bool need_diff_src) {
  memory diff_out = ctx.convert(ctx.backward, name() + " diff_dst", diff_dst, dst_.get_desc());
  if (fuse_relu_) diff_out = append_relu_backward(ctx, name(), dst_, diff_out);

  const auto bwd_weights_pd = compat::inner_product_backward_weights(
      ctx.engine, src_.get_desc(), any_layout(weights_dims_), any_layout({outputs_}),
      any_layout({src_dims_[0], outputs_}), fwd_pd_, ctx.attr());
  ctx.append_backward_weights(name(), bwd_weights_pd, src_, diff_out, diff_weights_, diff_bias_);
  if (!need_diff_src) return memory();

  const auto bwd_data_pd = compat::inner_product_backward_data(
      ctx.engine, src_.get_desc(), any_layout(weights_dims_), any_layout({src_dims_[0], outputs_}), fwd_pd_,
      ctx.attr());
  return ctx.append_backward_data(name(), bwd_data_pd, weights_, diff_out);
}

}  // namespace inkwell
