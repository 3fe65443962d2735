#include "inkwell/nn/bf16.hpp"

#include "inkwell/nn/cpu_isa.hpp"

namespace inkwell {

std::string to_string(TrainPrecision p) {
  switch (p) {
    case TrainPrecision::automatic: return "auto";
    case TrainPrecision::f32: return "f32";
    case TrainPrecision::bf16: return "bf16";
  }
  return "?";
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
  int convs = 0;
  int64_t channels = arch.input.at(0);
  for (const LayerSpec& s : parse_spec(arch.spec)) {
    if (s.kind == LayerSpec::Kind::conv) {
      const std::string name = "conv" + std::to_string(++convs);
      if (precision == TrainPrecision::automatic && channels == 1)
        plan.notes.push_back(name + " stays f32: with one input channel its bf16 kernels are slower");
      else
        plan.layers.insert(name);
      channels = s.out;
    } else if (s.kind == LayerSpec::Kind::fc) {
      channels = s.out;
    }
  }
  return plan;
}

}  // namespace inkwell
