// A preset's training step (forward, loss, backward, Adam) and forward pass, on synthetic
// in-memory batches: what the model costs, without data loading. items/s = images/s.
// The seed model by default (compare_pytorch.py's), and the best preset at its batch of 128.
// BM_TrainStepAuto is the step with --precision auto's plan, measured on this machine for this
// batch and thread count and cached (docs/plans.md); BM_TrainStep is f32. BM_ForwardInt8 runs
// models/accurate.inkw (the seed preset, calibrated) with its measured, cached int8 plan. (One
// model over every thread: inkwell-train itself runs a step on micro-batch workers.)
#include <benchmark/benchmark.h>
#include <omp.h>

#include <vector>

#include "inkwell/check/measured_plan.hpp"
#include "inkwell/check/plan_cache.hpp"
#include "inkwell/nn/loss.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/model_file/model_file.hpp"
#include "inkwell/train/optimizer.hpp"
#include "inkwell/core/rng.hpp"

namespace inkwell {
namespace {


void fill(Model& m, std::vector<uint8_t>& labels) {
  Rng rng(1);
  for (int64_t i = 0; i < m.batch() * 784; ++i) m.src()[i] = static_cast<float>(rng.uniform(-0.5, 2.5));
  labels.resize(m.batch());
  for (auto& l : labels) l = static_cast<uint8_t>(rng.below(10));
}

// Arg: batch size. Precision: inkwell-train's --precision (bf16.hpp).
void train_step(benchmark::State& state, const char* preset, TrainPrecision precision) {
  const Architecture arch{resolve_spec(preset), {1, 28, 28}};
  check::PlanCache cache;
  Model m(arch, state.range(0), Mode::train,
          check::measured_bf16_plan(arch, precision, state.range(0), check::PlanSource::cached, cache));
  m.init_params(0);
  Optimizer opt({OptimizerConfig::Kind::adam, 1e-4}, m.params().size());
  std::vector<uint8_t> labels;
  fill(m, labels);
  const size_t n = m.batch() * 10;
  int64_t step = 0;
  for (auto _ : state) {
    m.set_noise_key(++step);
    m.forward();
    softmax_cross_entropy({m.dst(), n}, labels, 10, m.batch(), {m.diff_dst(), n});
    m.backward();
    opt.step(m.params(), 1e-3);
  }
  state.SetItemsProcessed(state.iterations() * m.batch());
  state.counters["threads"] = omp_get_max_threads();
}
void BM_TrainStep(benchmark::State& state, const char* preset) { train_step(state, preset, TrainPrecision::f32); }
// --precision auto: bf16 for the convolutions measured faster in bf16 here.
void BM_TrainStepAuto(benchmark::State& state, const char* preset) {
  train_step(state, preset, TrainPrecision::automatic);
}

void forward_loop(benchmark::State& state, Model& m) {
  std::vector<uint8_t> labels;
  fill(m, labels);
  for (auto _ : state) {
    m.forward();
    benchmark::DoNotOptimize(m.dst()[0]);
  }
  state.SetItemsProcessed(state.iterations() * m.batch());
}

void BM_Forward(benchmark::State& state, const char* preset) {
  Model m(Architecture{resolve_spec(preset), {1, 28, 28}}, state.range(0), Mode::infer);
  m.init_params(0);
  forward_loop(state, m);
}

void BM_ForwardInt8(benchmark::State& state, const char* file) {
  const ModelFile f = load_model_file(std::string(INKWELL_SOURCE_DIR) + "/models/" + file);
  check::PlanCache cache;
  Model m(f.architecture, state.range(0),
          check::measured_int8_plan(f.architecture, f.tensors, f.calibration, Precision::automatic, state.range(0),
                                    check::PlanSource::cached, cache));
  m.load_state(f.tensors);
  forward_loop(state, m);
}

BENCHMARK_CAPTURE(BM_TrainStep, seed, "seed")->Arg(64)->Arg(256)->UseRealTime();
BENCHMARK_CAPTURE(BM_Forward, seed, "seed")->Arg(1)->Arg(256)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, best, "best")->Arg(128)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStepAuto, seed, "seed")->Arg(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStepAuto, best, "best")->Arg(128)->UseRealTime();
BENCHMARK_CAPTURE(BM_Forward, best, "best")->Arg(256)->UseRealTime();
BENCHMARK_CAPTURE(BM_ForwardInt8, seed, "accurate.inkw")->Arg(1)->Arg(256)->UseRealTime();

}  // namespace
}  // namespace inkwell
