// The seed model's training step (forward, loss, backward, Adam) and forward pass, on synthetic
// in-memory batches: what the model costs, without data loading. items/s = images/s.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <vector>

#include "inkwell/loss.hpp"
#include "inkwell/model.hpp"
#include "inkwell/optimizer.hpp"
#include "inkwell/rng.hpp"

namespace inkwell {
namespace {

const Architecture kSeed{resolve_spec("seed"), {1, 28, 28}};

void fill(Model& m, std::vector<uint8_t>& labels) {
  Rng rng(1);
  for (int64_t i = 0; i < m.batch() * 784; ++i) m.src()[i] = static_cast<float>(rng.uniform(-0.5, 2.5));
  labels.resize(m.batch());
  for (auto& l : labels) l = static_cast<uint8_t>(rng.below(10));
}

// Arg: batch size.
void BM_TrainStep(benchmark::State& state) {
  Model m(kSeed, state.range(0), Mode::train);
  m.init_params(0);
  Optimizer opt({OptimizerConfig::Kind::adam, 1e-4}, m.params().size());
  std::vector<uint8_t> labels;
  fill(m, labels);
  const size_t n = m.batch() * 10;
  for (auto _ : state) {
    m.forward();
    softmax_cross_entropy({m.dst(), n}, labels, 10, m.batch(), {m.diff_dst(), n});
    m.backward();
    opt.step(m.params(), 1e-3);
  }
  state.SetItemsProcessed(state.iterations() * m.batch());
  state.counters["threads"] = omp_get_max_threads();
}

void BM_Forward(benchmark::State& state) {
  Model m(kSeed, state.range(0), Mode::infer);
  m.init_params(0);
  std::vector<uint8_t> labels;
  fill(m, labels);
  for (auto _ : state) {
    m.forward();
    benchmark::DoNotOptimize(m.dst()[0]);
  }
  state.SetItemsProcessed(state.iterations() * m.batch());
}

BENCHMARK(BM_TrainStep)->Arg(64)->Arg(256)->UseRealTime();
BENCHMARK(BM_Forward)->Arg(1)->Arg(256)->UseRealTime();

}  // namespace
}  // namespace inkwell
