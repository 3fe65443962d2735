#include "inkwell/nn/cpu_isa.hpp"

#include <oneapi/dnnl/dnnl.hpp>

namespace inkwell {

KernelIsa kernel_isa() {
  // oneDNN's ISA values are bit sets that contain every lower ISA's bits.
  const auto effective = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto avx2 = static_cast<unsigned>(dnnl::cpu_isa::avx2);
  return (effective & avx2) == avx2 ? KernelIsa::avx2 : KernelIsa::baseline;
}

std::string to_string(KernelIsa isa) { return isa == KernelIsa::avx2 ? "avx2" : "baseline"; }

}  // namespace inkwell
