#include "inkwell/nn/max_pool.hpp"

#include <array>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/cpu_isa.hpp"
#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/nn/spec.hpp"
#include "max_pool_kernels.hpp"

namespace inkwell {

using dnnl::memory;
using tag = memory::format_tag;

namespace {

tag block_tag(int64_t block) { return block == 8 ? tag::aBcd8b : tag::aBcd16b; }

// The kernel build for the ISA oneDNN runs at (cpu_isa.hpp).
struct Kernels {
  decltype(&max_pool_avx2::forward) forward;
  decltype(&max_pool_avx2::forward_u8) forward_u8;
  decltype(&max_pool_avx2::backward) backward;
};
Kernels kernels_for(KernelIsa isa) {
  if (isa == KernelIsa::avx2) return {max_pool_avx2::forward, max_pool_avx2::forward_u8, max_pool_avx2::backward};
  return {max_pool_baseline::forward, max_pool_baseline::forward_u8, max_pool_baseline::backward};
}

// A layout the kernels take, as (planes, H, W, block): channel-blocked aBcd8b / aBcd16b (planes =
// N * C/B), or nhwc when C is a multiple of 8 (one block of all C channels, planes = N; oneDNN
// 3.x's brgemm convolutions give nhwc on AVX2, and int8 ones everywhere). Anything else is
// reordered to aBcd8b (f32), or left to oneDNN's pooling (u8: found = false).
struct Layout {
  tag format;
  int64_t block;
  std::string name;
  bool found = true;
};
Layout kernel_layout(const memory::desc& desc) {
  const memory::dims dims = compat::dims(desc);
  auto is = [&](tag t) { return desc == memory::desc(dims, compat::data_type(desc), t); };
  for (int64_t b : {8, 16})
    if (is(block_tag(b))) return {block_tag(b), b, b == 8 ? "b8" : "b16"};
  if (dims[1] % 8 == 0 && is(tag::acdb)) return {tag::acdb, dims[1], "nhwc"};
  return {tag::aBcd8b, 8, "b8", false};
}

std::string impl_name(const std::string& layout) {
  return "inkwell:max_pool_" + layout + ":" + to_string(kernel_isa());
}

}  // namespace

MaxPool::MaxPool(std::string name, int64_t kernel, int64_t stride, bool after_relu)
    : Layer(std::move(name)), kernel_(kernel), stride_(stride), after_relu_(after_relu) {}

// src (N, C, H, W) -> dst (N, C, OH, OW), same channel-blocked layout
memory MaxPool::build_forward(BuildContext& ctx, const memory& src) {
  const memory::dims dims = compat::dims(src.get_desc());
  if (dims.size() != 4) throw error(name(), ": needs a 4-D (N, C, H, W) input, got ", dims.size(), "-D");
  if (kernel_ * kernel_ > 256) throw error(name(), ": window ", kernel_, "x", kernel_, " is over 256 positions");
  const int64_t oh = window_output_size(dims[2], kernel_, 0, stride_), ow = window_output_size(dims[3], kernel_, 0, stride_);
  if (dims[2] < kernel_ || dims[3] < kernel_)
    throw error(name(), ": window ", kernel_, " does not fit a ", dims[2], "x", dims[3], " input");

  const memory::data_type type = compat::data_type(src.get_desc());
  const Layout layout = kernel_layout(src.get_desc());
  if (type != memory::data_type::f32 && !(type == memory::data_type::u8 && layout.found)) {
    // Other int8 tensors: oneDNN's pooling, dst in src's type and (through `any`) layout; the
    // scale passes through unchanged, as the max of quantised values is the quantised max.
    const memory::desc dst_desc({dims[0], dims[1], oh, ow}, type, tag::any);
    const auto pd = compat::pooling_forward(ctx.engine, dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max,
                                            src.get_desc(), dst_desc, kernel_, stride_, ctx.attr());
    dst_ = ctx.allocate(pd.dst_desc());
    ctx.append(ctx.forward, name() + " forward", pd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst_}});
    return dst_;
  }
  // inkwell's kernels: f32 (reordered to a layout they take if need be), or u8 in int8 inference
  // (3-4x faster than oneDNN's int8 pooling here, docs/int8.md), already in one.
  const int64_t block = layout.block;
  layout_name_ = layout.name;
  src_ = ctx.convert(ctx.forward, name() + " src", src, memory::desc(dims, type, layout.format));
  dst_ = ctx.allocate(memory::desc({dims[0], dims[1], oh, ow}, type, layout.format));
  const int64_t padded_channels = (dims[1] + block - 1) / block * block;
  shape_ = {dims[0] * padded_channels / block, dims[2], dims[3], oh, ow, block};

  const void* x = src_.get_data_handle();
  void* y = dst_.get_data_handle();
  const Shape s = shape_;
  const int64_t k = kernel_, stride = stride_;
  const int threads = ctx.threads;
  const Kernels kernels = kernels_for(kernel_isa());
  if (type == memory::data_type::u8) {
    ctx.append_kernel(ctx.forward, name() + " forward", impl_name(layout_name_ + "_u8"), [=] {
      kernels.forward_u8(s, k, stride, threads, static_cast<const uint8_t*>(x), static_cast<uint8_t*>(y));
    });
  } else {
    ctx.append_kernel(ctx.forward, name() + " forward", impl_name(layout_name_), [=] {
      kernels.forward(s, k, stride, threads, static_cast<const float*>(x), static_cast<float*>(y));
    });
  }
  return dst_;
}

// diff_dst (N, C, OH, OW) -> diff_src (N, C, H, W), in src's layout
memory MaxPool::build_backward(BuildContext& ctx, const memory& diff_dst, bool need_diff_src) {
  if (!need_diff_src) return memory();  // no parameters
  const memory diff = ctx.convert(ctx.backward, name() + " diff_dst", diff_dst, dst_.get_desc());
  const memory diff_src = ctx.allocate(src_.get_desc());
  const float* x = static_cast<const float*>(src_.get_data_handle());
  const float* y = static_cast<const float*>(dst_.get_data_handle());
  const float* dy = static_cast<const float*>(diff.get_data_handle());
  float* dx = static_cast<float*>(diff_src.get_data_handle());
  const Shape s = shape_;
  const int64_t k = kernel_, stride = stride_;
  const bool relu = after_relu_;
  const int threads = ctx.threads;
  const auto backward = kernels_for(kernel_isa()).backward;
  // The lambda holds diff and diff_src: the raw pointers stay valid whoever else lets them go.
  ctx.append_kernel(ctx.backward, name() + " backward", impl_name(layout_name_),
                    [=, keep_alive = std::array{diff, diff_src}] {
                      backward(s, k, stride, threads, relu, x, y, dy, dx);
                    });
  return diff_src;
}

}  // namespace inkwell
