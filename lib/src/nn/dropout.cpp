#include "inkwell/nn/dropout.hpp"

#include "inkwell/core/rng.hpp"
#include "inkwell/nn/dnnl_compat.hpp"

namespace inkwell {

using dnnl::memory;

bool dropout_keeps(uint64_t key, int64_t index, int percent) {
  // The top 32 bits as a uniform fraction, compared against P% of 2^32.
  return (hash64(key, static_cast<uint64_t>(index)) >> 32) >= static_cast<uint64_t>(percent) * (1ULL << 32) / 100;
}

memory Dropout::build_forward(BuildContext& ctx, const memory& src) {
  if (!ctx.training) return src;
  const Dims dims = compat::dims(src.get_desc());
  const memory plain = ctx.convert(ctx.forward, name() + " src", src, plain_desc(dims));
  dst_ = ctx.allocate(plain.get_desc());
  const int64_t size = element_count(dims);
  mask_.assign(size, 0.f);
  const float scale = 100.f / static_cast<float>(100 - percent_);
  ctx.append_kernel(ctx.forward, name() + " forward", "inkwell:scalar",
                    [this, plain, size, scale, key = ctx.noise_key, dst = dst_] {
                      const auto* x = static_cast<const float*>(plain.get_data_handle());
                      auto* y = static_cast<float*>(dst.get_data_handle());
                      for (int64_t i = 0; i < size; ++i) {
                        mask_[i] = dropout_keeps(*key, i, percent_) ? scale : 0.f;
                        y[i] = x[i] * mask_[i];
                      }
                    });
  return dst_;
}

memory Dropout::build_backward(BuildContext& ctx, const memory& diff_dst, bool need_diff_src) {
  if (!need_diff_src) return memory();
  const memory dd = ctx.convert(ctx.backward, name() + " diff_dst", diff_dst, dst_.get_desc());
  const memory diff_src = ctx.allocate(dst_.get_desc());
  const int64_t size = static_cast<int64_t>(mask_.size());
  ctx.append_kernel(ctx.backward, name() + " backward", "inkwell:scalar", [this, dd, diff_src, size] {
    const auto* g = static_cast<const float*>(dd.get_data_handle());
    auto* out = static_cast<float*>(diff_src.get_data_handle());
    for (int64_t i = 0; i < size; ++i) out[i] = g[i] * mask_[i];
  });
  return diff_src;
}

}  // namespace inkwell
