#include "inkwell/nn/avg_pool.hpp"

#include "inkwell/core/error.hpp"
#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/nn/spec.hpp"

namespace inkwell {

using dnnl::memory;

AvgPool::AvgPool(std::string name, int64_t kernel, int64_t stride)
    : Layer(std::move(name)), kernel_(kernel), stride_(stride) {}

// src (N, C, H, W) -> dst (N, C, OH, OW), in src's data type; the layout oneDNN picks for it
memory AvgPool::build_forward(BuildContext& ctx, const memory& src) {
  const memory::dims dims = compat::dims(src.get_desc());
  if (dims.size() != 4) throw error(name(), ": needs a 4-D (N, C, H, W) input, got ", dims.size(), "-D");
  if (dims[2] < kernel_ || dims[3] < kernel_)
    throw error(name(), ": window ", kernel_, " does not fit a ", dims[2], "x", dims[3], " input");
  const memory::dims out = {dims[0], dims[1], window_output_size(dims[2], kernel_, 0, stride_),
                            window_output_size(dims[3], kernel_, 0, stride_)};
  src_desc_ = src.get_desc();
  const memory::desc dst_desc(out, compat::data_type(src_desc_), memory::format_tag::any);
  forward_pd_ = compat::pooling_forward(ctx.engine, ctx.forward_prop(), dnnl::algorithm::pooling_avg_exclude_padding,
                                        src_desc_, dst_desc, kernel_, stride_, ctx.attr());
  const memory dst = ctx.allocate(forward_pd_->dst_desc());
  ctx.append(ctx.forward, name() + " forward", *forward_pd_, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  return dst;
}

// diff_dst (N, C, OH, OW) -> diff_src (N, C, H, W), layouts as oneDNN's backward asks
memory AvgPool::build_backward(BuildContext& ctx, const memory& diff_dst, bool need_diff_src) {
  if (!need_diff_src) return memory();  // no parameters
  const memory::desc diff_src_any(compat::dims(src_desc_), memory::data_type::f32, memory::format_tag::any);
  const memory::desc diff_dst_any(compat::dims(diff_dst.get_desc()), memory::data_type::f32, memory::format_tag::any);
  const auto pd = compat::pooling_backward(ctx.engine, dnnl::algorithm::pooling_avg_exclude_padding, diff_src_any,
                                           diff_dst_any, kernel_, stride_, *forward_pd_, ctx.attr());
  const memory diff = ctx.convert(ctx.backward, name() + " diff_dst", diff_dst, pd.diff_dst_desc());
  const memory diff_src = ctx.allocate(pd.diff_src_desc());
  ctx.append(ctx.backward, name() + " backward", pd, {{DNNL_ARG_DIFF_DST, diff}, {DNNL_ARG_DIFF_SRC, diff_src}});
  return diff_src;
}

}  // namespace inkwell
