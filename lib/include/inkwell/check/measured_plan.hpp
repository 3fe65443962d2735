// Plans chosen by timing them on the machine at hand (docs/plans.md). A rule measured on one CPU
// misses the next (bf16 without AMX: slower on the Xeon the rule came from, 1.48x faster on a Zen 5),
// so `auto` times the candidates for the model at hand, at the run's batch, taking turns within a
// small budget (0.3 s of runs for inference, 1 s for training, after building each), and keeps the fastest in the plan cache (check/plan_cache.hpp, one file with the
// correctness verdicts of plan_check.hpp) under a key of CPU, flags, oneDNN, ISA, threads, model
// and batch. A cached plan is used as it is: a given plan gives deterministic results, and timing
// noise cannot flip it from run to run. The plan chosen then passes plan_check's correctness check
// against f32 before it is used, as every plan does.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "inkwell/nn/bf16.hpp"
#include "inkwell/nn/quantization.hpp"
#include "inkwell/nn/spec.hpp"

namespace inkwell::check {

class PlanCache;

// --plan: where `auto` gets its plan.
enum class PlanSource {
  cached,   // "auto": the cached measurement, else measure now and cache it
  measure,  // "measure": measure again, and cache it
  rule,     // "rule": the static rules of plan_bf16 / plan_int8, no timing
};
PlanSource parse_plan_source(const std::string& name);  // auto | measure | rule; throws otherwise
std::string to_string(PlanSource source);

// The index of the cheapest of `seconds`, the earlier on a near tie (within `margin`, relative):
// candidates come with the static rule's first, so noise does not move a plan off the rule.
size_t pick_fastest(const std::vector<double>& seconds, double margin = 0.03);

// A candidate and what it cost: seconds per image, measured or injected.
struct Timing {
  std::string candidate;
  double seconds_per_image;
};

// What a measured plan says of itself, for logs and inkwell-info.
struct PlanReport {
  std::string chosen;
  std::vector<Timing> timings;  // empty when the plan came from the cache or the rule
  bool from_cache = false;
  std::string summary() const;  // "bf16 conv2 (measured: f32 52.1 us/img, bf16 conv1 conv2 ...)"
};

// ---- training: f32 or bf16 per convolution -----------------------------------------------------

// One timed run of a candidate: seconds per image. A probe holds what it runs (a model built
// once), so that the candidates can take turns.
using Probe = std::function<double()>;

// A training step (forward and backward) with `plan` at `batch`, on noise.
using TrainStepProbe = std::function<Probe(const Architecture&, const Bf16Plan&, int64_t batch)>;
Probe training_step_probe(const Architecture& arch, const Bf16Plan& plan, int64_t batch);

// The bf16 plan for `precision` auto: with native bf16, the fastest of f32, every convolution in
// bf16, and every convolution with more than one input channel in bf16; f32 without native bf16.
// PlanSource::rule (and precision f32/bf16) is plan_bf16's rule.
Bf16Plan measured_bf16_plan(const Architecture& arch, TrainPrecision precision, int64_t batch, PlanSource source,
                            PlanCache& cache, PlanReport* report = nullptr,
                            const TrainStepProbe& probe = training_step_probe);

// ---- inference: f32 or int8 per layer ---------------------------------------------------------

// One one-thread model with `plan` running a batch in memory.
using InferenceProbe = std::function<Probe(const Int8Plan& plan)>;

// The int8 plan: for auto with a calibration, the fastest of plan_int8's rule, f32, and int8 in
// every layer; else what `precision` says. Timed on one model with one OpenMP thread at `batch`
// (default probe: its forward with the model's weights on noise), whatever layout the caller then
// runs: the choice, and so the output, does not depend on --threads, and a run resumed with other
// threads gives the same rows.
Int8Plan measured_int8_plan(const Architecture& arch, const std::vector<NamedTensor>& state,
                            const Calibration& calibration, Precision precision, int64_t batch, PlanSource source,
                            PlanCache& cache, PlanReport* report = nullptr, InferenceProbe probe = nullptr);

// ---- inference: the rows a model runs at once ----------------------------------------------------

// The plan at hand running `rows` rows a forward pass in memory (default: on concurrent copies).
using RunBatchProbe = std::function<Probe(int64_t rows)>;

// The candidates for the rows a model runs at once, at most `most`: `most` itself (the rule), then
// the powers of two below it down to 16 (64: 64, 32, 16). Below 16 a run's fixed costs grow.
std::vector<int64_t> run_batch_candidates(int64_t most);

// How many rows a model runs at once, for `plan` (the precision already chosen): for auto and
// measure the fastest of run_batch_candidates(most), timed in turns as the precision is, on
// one-thread models running at once on as many threads as the process may use CPUs (at most 8),
// as classification runs them, and cached; for rule, `most`. A smaller run keeps more of its
// activations near its core: on a Zen 5, f32 models classify 1.12-1.18x faster in runs of 16 or 32
// than of 64, int8 ones keep 64 (docs/plans.md). Measured whatever the precision: a forced
// precision says nothing of the rows.
int64_t measured_run_batch(const Architecture& arch, const std::vector<NamedTensor>& state, const Int8Plan& plan,
                           int64_t most, PlanSource source, PlanCache& cache, PlanReport* report = nullptr,
                           RunBatchProbe probe = nullptr);

}  // namespace inkwell::check
