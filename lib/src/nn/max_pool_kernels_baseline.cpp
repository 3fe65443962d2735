// The max pool kernels for baseline x86-64 (SSE2), for CPUs or ISA caps below AVX2.
#define INKWELL_KERNEL_ISA baseline
#include "max_pool_kernels.inc"
