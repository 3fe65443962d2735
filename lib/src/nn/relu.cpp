#include "inkwell/nn/relu.hpp"

#include "inkwell/nn/dnnl_compat.hpp"

namespace inkwell {

using dnnl::memory;

namespace {
dnnl::eltwise_forward::primitive_desc relu_forward_pd(const BuildContext& ctx, const memory::desc& src) {
  return compat::eltwise_forward(ctx.engine, ctx.forward_prop(), dnnl::algorithm::eltwise_relu_use_dst_for_bwd, src,
                                 ctx.attr());
}
}  // namespace

// src -> dst, same shape and layout
memory Relu::build_forward(BuildContext& ctx, const memory& src) {
  const auto pd = relu_forward_pd(ctx, src.get_desc());
  dst_ = ctx.allocate(pd.dst_desc());
  ctx.append(ctx.forward, name() + " forward", pd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst_}});
  return dst_;
}

memory Relu::build_backward(BuildContext& ctx, const memory& diff_dst, bool need_diff_src) {
  if (!need_diff_src) return memory();  // no parameters: nothing else to compute
  const memory diff = ctx.convert(ctx.backward, name() + " diff_dst", diff_dst, dst_.get_desc());
  return append_relu_backward(ctx, name(), dst_, diff);
}

// diff_dst (dst's layout) -> diff_src = diff_dst * (dst > 0)
memory append_relu_backward(BuildContext& ctx, const std::string& name, const memory& dst,
                            const memory& diff_dst) {
  const auto hint = relu_forward_pd(ctx, dst.get_desc());
  const auto pd = compat::eltwise_backward(ctx.engine, dnnl::algorithm::eltwise_relu_use_dst_for_bwd, dst.get_desc(),
                                           dst.get_desc(), hint, ctx.attr());
  const memory diff_src = ctx.allocate(pd.diff_src_desc());
  ctx.append(ctx.backward, name + " relu backward", pd,
             {{DNNL_ARG_DST, dst}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_SRC, diff_src}});
  return diff_src;
}

}  // namespace inkwell
