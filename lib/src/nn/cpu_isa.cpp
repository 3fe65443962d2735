#include "inkwell/nn/cpu_isa.hpp"

#include <oneapi/dnnl/dnnl.hpp>

namespace inkwell {

bool effective_isa_has(dnnl::cpu_isa isa) {
  // oneDNN's ISA values are bit sets that contain every lower ISA's bits.
  const auto effective = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto wanted = static_cast<unsigned>(isa);
  return (effective & wanted) == wanted;
}

bool cpu_has_int8_vnni() {
  return effective_isa_has(dnnl::cpu_isa::avx512_core_vnni) || effective_isa_has(dnnl::cpu_isa::avx2_vnni);
}

KernelIsa kernel_isa() { return effective_isa_has(dnnl::cpu_isa::avx2) ? KernelIsa::avx2 : KernelIsa::baseline; }

std::string to_string(KernelIsa isa) { return isa == KernelIsa::avx2 ? "avx2" : "baseline"; }

}  // namespace inkwell
