#include "inkwell/relu.hpp"

namespace inkwell {

using dnnl::memory;

namespace {
dnnl::eltwise_forward::primitive_desc relu_forward_pd(const BuildContext& ctx, const memory::desc& src) {
  dnnl::eltwise_forward::desc desc(ctx.forward_prop(), dnnl::algorithm::eltwise_relu_use_dst_for_bwd,
                                   src, 0.f, 0.f);
  return dnnl::eltwise_forward::primitive_desc(desc, ctx.attr(), ctx.engine);
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
  dnnl::eltwise_backward::desc desc(dnnl::algorithm::eltwise_relu_use_dst_for_bwd, dst.get_desc(),
                                    dst.get_desc(), 0.f, 0.f);
  const dnnl::eltwise_backward::primitive_desc pd(desc, ctx.attr(), ctx.engine, hint);
  const memory diff_src = ctx.allocate(pd.diff_src_desc());
  ctx.append(ctx.backward, name + " relu backward", pd,
             {{DNNL_ARG_DST, dst}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_SRC, diff_src}});
  return diff_src;
}

}  // namespace inkwell
