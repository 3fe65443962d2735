#include "inkwell/pool.hpp"

#include "inkwell/error.hpp"

namespace inkwell {

using dnnl::memory;

MaxPool::MaxPool(std::string name, int64_t kernel, int64_t stride)
    : Layer(std::move(name)), kernel_(kernel), stride_(stride) {}

// src (N, C, H, W) -> dst (N, C, OH, OW); keeps src's layout
memory MaxPool::build_forward(BuildContext& ctx, const memory& src) {
  const memory::dims dims = src.get_desc().dims();
  if (dims.size() != 4) throw error(name(), ": needs a 4-D (N, C, H, W) input, got ", dims.size(), "-D");
  const int64_t oh = (dims[2] - kernel_) / stride_ + 1, ow = (dims[3] - kernel_) / stride_ + 1;
  if (oh < 1 || ow < 1) throw error(name(), ": window ", kernel_, " does not fit a ", dims[2], "x", dims[3], " input");
  const memory::desc dst_desc({dims[0], dims[1], oh, ow}, memory::data_type::f32, memory::format_tag::any);

  dnnl::pooling_forward::desc desc(ctx.forward_prop(), dnnl::algorithm::pooling_max, src.get_desc(),
                                   dst_desc, {stride_, stride_}, {kernel_, kernel_}, {0, 0}, {0, 0});
  fwd_pd_ = dnnl::pooling_forward::primitive_desc(desc, ctx.attr(), ctx.engine);
  src_ = src;
  dst_ = ctx.allocate(fwd_pd_.dst_desc());
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src_}, {DNNL_ARG_DST, dst_}};
  if (ctx.training) {
    workspace_ = ctx.allocate(fwd_pd_.workspace_desc());
    args[DNNL_ARG_WORKSPACE] = workspace_;
  }
  ctx.append(ctx.forward, name() + " forward", fwd_pd_, std::move(args));
  return dst_;
}

// diff_dst (N, C, OH, OW) -> diff_src (N, C, H, W)
memory MaxPool::build_backward(BuildContext& ctx, const memory& diff_dst, bool need_diff_src) {
  if (!need_diff_src) return memory();  // no parameters
  dnnl::pooling_backward::desc desc(dnnl::algorithm::pooling_max, src_.get_desc(), dst_.get_desc(),
                                    {stride_, stride_}, {kernel_, kernel_}, {0, 0}, {0, 0});
  const dnnl::pooling_backward::primitive_desc pd(desc, ctx.attr(), ctx.engine, fwd_pd_);
  const memory diff = ctx.convert(ctx.backward, name() + " diff_dst", diff_dst, pd.diff_dst_desc());
  const memory diff_src = ctx.allocate(pd.diff_src_desc());
  ctx.append(ctx.backward, name() + " backward", pd,
             {{DNNL_ARG_DIFF_DST, diff}, {DNNL_ARG_WORKSPACE, workspace_}, {DNNL_ARG_DIFF_SRC, diff_src}});
  return diff_src;
}

}  // namespace inkwell
