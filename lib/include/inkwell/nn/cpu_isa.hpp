// The instruction set inkwell's own kernels use: AVX2 when oneDNN's effective ISA has it, else
// baseline x86-64. oneDNN's effective ISA is the CPU's, capped by ONEDNN_MAX_CPU_ISA, so that one
// variable caps oneDNN's kernels and inkwell's alike (an AVX-512 machine tests the AVX2 paths
// with ONEDNN_MAX_CPU_ISA=AVX2, and the baseline ones with SSE41). Like oneDNN's, it is read
// when a model is built.
#pragma once

#include <string>

#include <oneapi/dnnl/dnnl.hpp>

namespace inkwell {

// oneDNN's effective ISA (the CPU's, capped by ONEDNN_MAX_CPU_ISA) includes `isa`.
bool effective_isa_has(dnnl::cpu_isa isa);

// ... includes VNNI's int8 dot products (AVX512_CORE_VNNI, AVX2_VNNI, or AMX above them).
bool cpu_has_int8_vnni();

enum class KernelIsa { baseline, avx2 };

KernelIsa kernel_isa();
std::string to_string(KernelIsa isa);  // "baseline", "avx2"

}  // namespace inkwell
