#include "inkwell/nn/bf16.hpp"

#include "inkwell/core/error.hpp"
#include "inkwell/nn/cpu_isa.hpp"

namespace inkwell {

TrainPrecision parse_train_precision(const std::string& name) {
  if (name == "auto") return TrainPrecision::automatic;
  if (name == "f32") return TrainPrecision::f32;
  if (name == "bf16") return TrainPrecision::bf16;
  throw error("unknown training precision '", name, "' (expected auto, f32 or bf16)");
}

bool cpu_has_native_bf16() { return effective_isa_has(dnnl::cpu_isa::avx512_core_bf16); }
bool cpu_has_amx() { return effective_isa_has(dnnl::cpu_isa::avx512_core_amx); }

Bf16Plan plan_bf16(const Architecture& arch, TrainPrecision precision) {
  Bf16Plan plan;
  if (precision == TrainPrecision::f32) return plan;
  if (precision == TrainPrecision::bf16 && !cpu_has_native_bf16()) {
    plan.notes.push_back("this CPU has no native bf16 (AVX-512 bf16 or AMX): training in f32");
    return plan;
  }
  if (precision == TrainPrecision::automatic && !cpu_has_amx()) {
    plan.notes.push_back("without AMX, oneDNN's bf16 convolutions are slower than f32 here: training in f32");
    return plan;
  }
  // Every convolution, by its weights (OC, IC, K, K).
  for (const NamedDims& t : state_shapes(arch)) {
    if (!t.name.starts_with("conv") || !t.name.ends_with(".weights")) continue;
    const std::string layer = t.name.substr(0, t.name.find('.'));
    if (precision == TrainPrecision::automatic && t.dims[1] == 1)
      plan.notes.push_back(layer + " stays f32: with one input channel its bf16 kernels are slower");
    else
      plan.layers.insert(layer);
  }
  return plan;
}

}  // namespace inkwell
