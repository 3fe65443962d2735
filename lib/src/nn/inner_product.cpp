#include "inkwell/nn/inner_product.hpp"

#include <optional>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/nn/relu.hpp"

namespace inkwell {

using dnnl::memory;

InnerProduct::InnerProduct(std::string name, int64_t outputs, bool fuse_relu)
    : Layer(std::move(name)), outputs_(outputs), fuse_relu_(fuse_relu) {}

namespace {

// In inference, a dense nchw or nhwc src is taken as the 2-D (N, C*H*W) or (N, H*W*C) it is in
// memory (a view: no copy). oneDNN 2.6 runs 2-D inner products with its brgemm kernels and 4-D
// ones with a gemm whose kernels are generated at its first run. On the Zen 5, batch 64, 32x7x7
// in: the first run 39 ms -> 1.6 ms in f32 and 8.5 -> 0.6 ms in int8, then 21 -> 17 us (f32) and
// 17 -> 5 us (int8) a run (docs/performance.md).
struct FlatSrc {
  memory view;  // (N, K)
  bool channels_last;
};
std::optional<FlatSrc> flat_src(const BuildContext& ctx, const memory& src, memory::data_type type) {
  const memory::desc d = src.get_desc();
  const memory::dims dims = compat::dims(d);
  if (ctx.training || dims.size() != 4 || compat::data_type(d) != type) return std::nullopt;
  const bool nchw = d == memory::desc(dims, type, memory::format_tag::abcd);
  const bool nhwc = d == memory::desc(dims, type, memory::format_tag::acdb);
  if (!nchw && !nhwc) return std::nullopt;
  const memory::desc flat({dims[0], dims[1] * dims[2] * dims[3]}, type, memory::format_tag::ab);
  return FlatSrc{memory(flat, ctx.engine, src.get_data_handle()), nhwc};
}

}  // namespace

// src (N, C[, H, W]) -> dst (N, OC)
memory InnerProduct::build_forward(BuildContext& ctx, const memory& src) {
  src_dims_ = compat::dims(src.get_desc());
  if (src_dims_.size() != 2 && src_dims_.size() != 4)
    throw error(name(), ": needs a 2-D or 4-D input, got ", src_dims_.size(), "-D");
  weights_dims_ = src_dims_;
  weights_dims_[0] = outputs_;
  const int64_t fan_in = element_count(Dims(src_dims_.begin() + 1, src_dims_.end()));

  if (const Int8Layer* q = ctx.int8_layer(name())) return build_int8_forward(ctx, src, *q, fan_in);

  if (const std::optional<FlatSrc> flat = flat_src(ctx, src, memory::data_type::f32)) {
    const int64_t k = compat::dims(flat->view.get_desc())[1];
    fwd_pd_ = compat::inner_product_forward(ctx.engine, dnnl::prop_kind::forward_inference, flat->view.get_desc(),
                                           any_layout({outputs_, k}), any_layout({outputs_}),
                                           any_layout({src_dims_[0], outputs_}), ctx.attr(fuse_relu_));
    src_ = flat->view;
    dst_ = ctx.append_flat_forward(name(), fwd_pd_, src_, weights_dims_, fan_in, flat->channels_last);
    return dst_;
  }

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
  const std::optional<FlatSrc> flat = flat_src(ctx, src, src_type);
  const memory::desc src_desc = flat                                             ? flat->view.get_desc()
                                : compat::data_type(src.get_desc()) == src_type ? src.get_desc()
                                                                                : memory::desc(src_dims_, src_type, memory::format_tag::any);
  const Dims weights_dims = flat ? Dims{outputs_, compat::dims(src_desc)[1]} : weights_dims_;
  dnnl::primitive_attr attr = ctx.attr(fuse_relu_);
  compat::ScaleArgs scales = compat::set_int8_scales(attr, ctx.engine, q.src_scale, q.weight_scales, q.dst_scale);
  fwd_pd_ = compat::inner_product_forward(ctx.engine, dnnl::prop_kind::forward_inference, src_desc,
                                         memory::desc(weights_dims, dt::s8, memory::format_tag::any),
                                         any_layout({outputs_}),
                                         memory::desc({src_dims_[0], outputs_}, q.dst_scale != 0 ? dt::u8 : dt::f32,
                                                      memory::format_tag::any),
                                         attr);
  dst_ = ctx.append_int8_weighted_forward(name(), fwd_pd_, flat ? flat->view : src, weights_dims_, fan_in, q,
                                          std::move(scales), flat && flat->channels_last);
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
