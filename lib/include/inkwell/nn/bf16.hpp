// bf16 training (docs/bf16.md): which layers compute in bf16, chosen per CPU.
//
// A bf16 convolution keeps f32 master weights in the parameter arena (the optimizer, its state
// and the loss stay f32) and makes a bf16 copy of them at each forward; it reads its input in
// bf16 (converted from the f32 activations the pools and other layers pass along), writes f32,
// and in backward computes from bf16 gradients into f32 weight gradients, which oneDNN
// accumulates in f32.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "inkwell/nn/spec.hpp"

namespace inkwell {

enum class TrainPrecision { automatic, f32, bf16 };
TrainPrecision parse_train_precision(const std::string& name);  // "auto", "f32", "bf16"; throws otherwise

struct Bf16Plan {
  std::set<std::string> layers;    // conv layers computing in bf16; the rest f32
  std::vector<std::string> notes;  // why bf16 is not used (where), one line each
  std::vector<std::string> warnings;  // layers moved to f32 by the check on this machine (check/plan_check.hpp)
};

// The CPU (as capped by ONEDNN_MAX_CPU_ISA) runs bf16 natively: AVX-512 bf16 or AMX.
bool cpu_has_native_bf16();
// ... and with AMX tiles, where oneDNN's bf16 convolutions are several times faster than f32.
bool cpu_has_amx();

// f32: none. bf16: every convolution, if the CPU has native bf16 (else none, with a note: never
// an emulated path). automatic: the convolutions measured faster in bf16 (docs/bf16.md): with AMX,
// every convolution with more than one input channel; without AMX, none.
Bf16Plan plan_bf16(const Architecture& arch, TrainPrecision precision);

}  // namespace inkwell
