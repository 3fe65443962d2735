// The max pool kernels (max_pool.hpp), compiled once per instruction set: max_pool_kernels.inc is
// included by max_pool_kernels_avx2.cpp (built with -mavx2) and max_pool_kernels_baseline.cpp
// (baseline x86-64). Which one runs is chosen at model build time from oneDNN's effective ISA
// (cpu_isa.hpp), so ONEDNN_MAX_CPU_ISA caps inkwell's kernels exactly as it caps oneDNN's.
#pragma once

#include <cstdint>

#include "inkwell/nn/max_pool.hpp"

#define INKWELL_DECLARE_MAX_POOL_KERNELS(isa)                                                               \
  namespace inkwell::max_pool_##isa {                                                                        \
  /* src (planes, H, W, B) -> dst (planes, OH, OW, B): the max of each KxK window. */                         \
  void forward(const MaxPool::Shape& s, int64_t k, int64_t stride, int threads, const float* src, float* dst); \
  void forward_u8(const MaxPool::Shape& s, int64_t k, int64_t stride, int threads, const uint8_t* src,         \
                  uint8_t* dst);                                                                              \
  /* diff_dst -> diff_src, routed to each window's first max; masked where max == 0 with after_relu. */      \
  void backward(const MaxPool::Shape& s, int64_t k, int64_t stride, int threads, bool after_relu,            \
                const float* src, const float* dst, const float* diff_dst, float* diff_src);                  \
  }

INKWELL_DECLARE_MAX_POOL_KERNELS(baseline)
INKWELL_DECLARE_MAX_POOL_KERNELS(avx2)
