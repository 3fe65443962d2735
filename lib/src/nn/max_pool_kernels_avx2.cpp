// The max pool kernels for AVX2 (this file is compiled with -mavx2; lib/CMakeLists.txt).
#define INKWELL_KERNEL_ISA avx2
#include "max_pool_kernels.inc"
