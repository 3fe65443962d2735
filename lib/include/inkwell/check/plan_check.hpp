// Low-precision plans checked on the machine at hand before they are used (docs/decisions.md).
// oneDNN picks other kernels, layouts and int8 compensation paths on other CPUs, ISA levels and
// thread counts, and some of them have been wrong (oneDNN 3.7 on an AMD Zen 5: 14% accuracy, no
// warning). So before an int8 or bf16 plan runs, the model runs on a small built-in probe both
// ways, and the plan must agree with f32: logits within a tolerance, and labels. The int8 probe is
// 64 pseudo-random pen scribbles on blank 28x28 pages, normalised as the model's inputs are (a
// blank page is what a real digit mostly is); bf16's is uniform noise through a fresh model. Where it does not, each low-precision layer is tried alone, and those that disagree
// run in f32, with a note naming them. The verdict is cached (check/plan_cache.hpp) per machine,
// oneDNN version, effective ISA, thread count (oneDNN's current OpenMP count), batch size and
// architecture, so the check runs once.
#pragma once

#include <vector>

#include "inkwell/data/dataset.hpp"
#include "inkwell/nn/bf16.hpp"
#include "inkwell/nn/quantization.hpp"
#include "inkwell/nn/spec.hpp"
#include "inkwell/core/tensor.hpp"

namespace inkwell::check {

class PlanCache;

// Inference in int8 with the model's own weights (`state`), calibration and normalisation, at `batch`.
Int8Plan check_int8_plan(const Architecture& arch, const std::vector<NamedTensor>& state, const Normalization& norm,
                         Int8Plan plan, int64_t batch, PlanCache& cache);
Int8Plan check_int8_plan(const Architecture& arch, const std::vector<NamedTensor>& state, const Normalization& norm,
                         Int8Plan plan, int64_t batch);  // the user's cache

// A bf16 training step (forward, and the weight gradients of backward), at `batch`, with weights
// initialised from a fixed seed.
Bf16Plan check_bf16_plan(const Architecture& arch, Bf16Plan plan, int64_t batch, PlanCache& cache);
Bf16Plan check_bf16_plan(const Architecture& arch, Bf16Plan plan, int64_t batch);

}  // namespace inkwell::check
