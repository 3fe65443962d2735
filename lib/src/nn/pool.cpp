#include "inkwell/nn/pool.hpp"

#include <cstring>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/dnnl_compat.hpp"

namespace inkwell {

using dnnl::memory;
using tag = memory::format_tag;

namespace {

// Eight floats as one value: GCC turns the arithmetic, compares and selects on it into AVX2
// instructions in the avx2 clone (two SSE2 halves in the default one), with no branches.
// load8/store8 are file-local and always inlined, so GCC's note that a 32-byte vector changes
// the ABI of non-AVX functions concerns no real call.
#pragma GCC diagnostic ignored "-Wpsabi"
using f32x8 = float __attribute__((vector_size(32)));
using i32x8 = int32_t __attribute__((vector_size(32)));  // lane masks: all ones or zero
[[gnu::always_inline]] inline f32x8 load8(const float* p) {
  f32x8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
[[gnu::always_inline]] inline void store8(float* p, f32x8 v) { std::memcpy(p, &v, sizeof v); }

// Built for baseline x86-64 and for AVX2, picked at load time (the library itself targets
// baseline x86-64: INKWELL_NATIVE is off by default).
#define INKWELL_KERNEL_CLONES __attribute__((target_clones("avx2", "default")))

// dst = max over each KxK window of src.
// src (planes, H, W, B) -> dst (planes, OH, OW, B), B a multiple of 8.
template <int B>
INKWELL_KERNEL_CLONES void max_pool_forward(const MaxPool::Shape& s, int64_t k, int64_t stride, int threads,
                                            const float* __restrict src, float* __restrict dst) {
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
  for (int64_t p = 0; p < s.planes; ++p)
    for (int64_t oh = 0; oh < s.oh; ++oh)
      for (int64_t ow = 0; ow < s.ow; ++ow)
        for (int c = 0; c < B; c += 8) {
          const float* window = src + ((p * s.h + oh * stride) * s.w + ow * stride) * B + c;
          f32x8 best = load8(window);
          for (int64_t kh = 0; kh < k; ++kh)
            for (int64_t kw = 0; kw < k; ++kw) {
              const f32x8 x = load8(window + (kh * s.w + kw) * B);
              best = x > best ? x : best;
            }
          store8(dst + ((p * s.oh + oh) * s.ow + ow) * B + c, best);
        }
}

// Each diff_dst value goes to the first position of its window (row-major) where src equals
// the window's max: the argmax, found again instead of kept in a workspace. Every other position
// gets 0; with after_relu, also the whole window when its max is 0 (ReLU backward, folded in).
// When the windows tile the plane each position is written once; else (overlapping
// windows, or rows/columns no window covers) the plane is zeroed and the values accumulated.
template <int B>
INKWELL_KERNEL_CLONES void max_pool_backward(const MaxPool::Shape& s, int64_t k, int64_t stride, int threads, bool after_relu,
                                             const float* __restrict src, const float* __restrict dst,
                                             const float* __restrict diff_dst, float* __restrict diff_src) {
  const bool tiled = stride == k && s.h % k == 0 && s.w % k == 0;
  const f32x8 zero = {};
  const i32x8 all = ~i32x8{};
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t p = 0; p < s.planes; ++p) {
    const float* x_plane = src + p * s.h * s.w * B;
    float* dx_plane = diff_src + p * s.h * s.w * B;
    if (!tiled) std::memset(dx_plane, 0, sizeof(float) * s.h * s.w * B);
    for (int64_t oh = 0; oh < s.oh; ++oh)
      for (int64_t ow = 0; ow < s.ow; ++ow)
        for (int c = 0; c < B; c += 8) {
          const int64_t o = ((p * s.oh + oh) * s.ow + ow) * B + c;
          const int64_t corner = (oh * stride * s.w + ow * stride) * B + c;
          const f32x8 max = load8(dst + o);
          const i32x8 live = after_relu ? max > zero : all;
          f32x8 left = load8(diff_dst + o);  // the gradient not yet routed
          for (int64_t kh = 0; kh < k; ++kh)
            for (int64_t kw = 0; kw < k; ++kw) {
              const int64_t at = corner + (kh * s.w + kw) * B;
              const i32x8 hit = (load8(x_plane + at) == max) & live;
              const f32x8 routed = hit ? left : zero;
              store8(dx_plane + at, tiled ? routed : load8(dx_plane + at) + routed);
              left = hit ? zero : left;
            }
        }
  }
}

tag block_tag(int64_t block) { return block == 8 ? tag::aBcd8b : tag::aBcd16b; }

// The channel block of a layout the kernels take (8, 16), or 0.
int64_t channel_block(const memory::desc& desc) {
  for (int64_t b : {8, 16})
    if (desc == memory::desc(compat::dims(desc), memory::data_type::f32, block_tag(b))) return b;
  return 0;
}

}  // namespace

MaxPool::MaxPool(std::string name, int64_t kernel, int64_t stride, bool after_relu)
    : Layer(std::move(name)), kernel_(kernel), stride_(stride), after_relu_(after_relu) {}

// src (N, C, H, W) -> dst (N, C, OH, OW), same channel-blocked layout
memory MaxPool::build_forward(BuildContext& ctx, const memory& src) {
  const memory::dims dims = compat::dims(src.get_desc());
  if (dims.size() != 4) throw error(name(), ": needs a 4-D (N, C, H, W) input, got ", dims.size(), "-D");
  if (kernel_ * kernel_ > 256) throw error(name(), ": window ", kernel_, "x", kernel_, " is over 256 positions");
  const int64_t oh = (dims[2] - kernel_) / stride_ + 1, ow = (dims[3] - kernel_) / stride_ + 1;
  if (dims[2] < kernel_ || dims[3] < kernel_)
    throw error(name(), ": window ", kernel_, " does not fit a ", dims[2], "x", dims[3], " input");

  int64_t block = channel_block(src.get_desc());
  if (block == 0) block = 8;
  const tag layout = block_tag(block);
  src_ = ctx.convert(ctx.forward, name() + " src", src, memory::desc(dims, memory::data_type::f32, layout));
  dst_ = ctx.allocate(memory::desc({dims[0], dims[1], oh, ow}, memory::data_type::f32, layout));
  const int64_t padded_channels = (dims[1] + block - 1) / block * block;
  shape_ = {dims[0] * padded_channels / block, dims[2], dims[3], oh, ow, block};

  const float* x = static_cast<const float*>(src_.get_data_handle());
  float* y = static_cast<float*>(dst_.get_data_handle());
  const Shape s = shape_;
  const int64_t k = kernel_, stride = stride_;
  const int threads = ctx.threads;
  auto run = [=] {
    if (s.block == 8) max_pool_forward<8>(s, k, stride, threads, x, y);
    else max_pool_forward<16>(s, k, stride, threads, x, y);
  };
  ctx.append_kernel(ctx.forward, name() + " forward", "inkwell:max_pool_b" + std::to_string(block), run);
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
  auto run = [=] {
    if (s.block == 8) max_pool_backward<8>(s, k, stride, threads, relu, x, y, dy, dx);
    else max_pool_backward<16>(s, k, stride, threads, relu, x, y, dy, dx);
  };
  ctx.append_kernel(ctx.backward, name() + " backward", "inkwell:max_pool_b" + std::to_string(s.block), run);
  return diff_src;
}

}  // namespace inkwell
