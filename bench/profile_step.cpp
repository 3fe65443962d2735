// Where a training step (or a forward pass) goes, op by op: Model::set_profiling over a number of
// steps on a synthetic batch, median-free but long enough to settle. Prints one line per op with
// its oneDNN implementation, sorted by time, and the step total; docs/performance.md quotes it.
//   profile_step [--model seed|FILE.inkw] [--batch 64] [--steps 200] [--infer] [--precision auto|f32|int8|bf16]
// A model file is profiled forward only, with its weights, in the precision asked for (int8 needs
// a quantised file, inkwell-quantize; docs/int8.md). A training step takes auto|f32|bf16
// (docs/bf16.md).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "inkwell/check/measured_plan.hpp"
#include "inkwell/check/plan_cache.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/nn/loss.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/model_file/model_file.hpp"
#include "inkwell/train/optimizer.hpp"

int main(int argc, char** argv) {
  using namespace inkwell;
  std::string preset = "seed";
  int64_t batch = 64, steps = 200;
  bool infer = false;
  std::string precision = "auto";
  for (int i = 1; i < argc; ++i) {
    const auto value = [&] { return i + 1 < argc ? argv[++i] : ""; };
    if (!std::strcmp(argv[i], "--model")) preset = value();
    else if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(value());
    else if (!std::strcmp(argv[i], "--steps")) steps = std::atoll(value());
    else if (!std::strcmp(argv[i], "--infer")) infer = true;
    else if (!std::strcmp(argv[i], "--precision")) precision = value();
    else {
      std::fprintf(stderr, "usage: profile_step [--model seed|FILE.inkw] [--batch 64] [--steps 200] [--infer] "
                           "[--precision auto|f32|int8]\n");
      return 2;
    }
  }
  const bool from_file = preset.ends_with(".inkw");
  const ModelFile file = from_file ? load_model_file(preset) : ModelFile{};
  infer = infer || from_file;
  const Architecture arch = from_file ? file.architecture : Architecture{resolve_spec(preset), {1, 28, 28}};
  // auto: the plan measured on this machine (cached), as the apps run it (docs/plans.md).
  check::PlanCache cache;
  Model m = infer ? Model(arch, batch,
                          check::measured_int8_plan(arch, file.tensors, file.calibration, parse_precision(precision),
                                                    batch, check::PlanSource::cached, cache))
                  : Model(arch, batch, Mode::train,
                          check::measured_bf16_plan(arch, parse_train_precision(precision), batch,
                                                    check::PlanSource::cached, cache));
  if (from_file) m.load_state(file.tensors);
  else m.init_params(0);
  Optimizer opt({OptimizerConfig::Kind::adam, 1e-4}, m.params().size());
  Rng rng(1);
  for (int64_t i = 0; i < batch * 784; ++i) m.src()[i] = static_cast<float>(rng.uniform(-0.5, 2.5));
  std::vector<uint8_t> labels(batch);
  for (auto& l : labels) l = static_cast<uint8_t>(rng.below(m.classes()));
  const size_t n = batch * m.classes();
  auto step = [&] {
    m.forward();
    if (infer) return;
    softmax_cross_entropy({m.dst(), n}, labels, m.classes(), batch, {m.diff_dst(), n});
    m.backward();
    opt.step(m.params(), 1e-3);
  };
  for (int i = 0; i < 20; ++i) step();  // warm-up: caches, page faults, OpenMP team
  m.set_profiling(true);
  for (int64_t i = 0; i < steps; ++i) step();

  auto ops = m.profile();
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.total_ms > b.total_ms; });
  double total = 0;
  for (const auto& op : ops) total += op.total_ms / steps;
  std::printf("%s, %s batch %lld, %s, per step (ms):\n", compat::version().c_str(), preset.c_str(),
              static_cast<long long>(batch), infer ? "forward" : "training step");
  for (const auto& op : ops)
    std::printf("  %-40s %7.3f  %s\n", op.name.c_str(), op.total_ms / steps, op.impl.c_str());
  std::printf("  %-40s %7.3f  (%.0f img/s in the ops alone)\n", "total", total, batch * 1000.0 / total);
}
