#include "inkwell/check/measured_plan.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "inkwell/check/plan_cache.hpp"
#include "inkwell/core/cpu_budget.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/core/tensor.hpp"
#include "inkwell/nn/model.hpp"

namespace inkwell::check {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void fill_noise(float* x, int64_t n, uint64_t seed) {
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(rng.uniform(-0.5, 2.8));
}

std::string bf16_name(const Bf16Plan& plan) {
  if (plan.layers.empty()) return "f32";
  std::string name = "bf16";
  for (const std::string& l : plan.layers) name += " " + l;
  return name;
}

std::string int8_name(const Int8Plan& plan) {
  if (plan.layers.empty()) return "f32";
  std::string name = "int8";
  for (const auto& [l, _] : plan.layers) name += " " + l;
  return name;
}

// The candidates' index by cache or by timing; fills `report`. Timing: each candidate's probe is
// made (its model built, one warm-up run), then the probes run in turns, one run each a round,
// until `budget` seconds have passed (at least 5 rounds, at most 40): the machine's drifts (another
// process, the clock) fall on every candidate alike. A candidate's figure is its median run.
size_t choose(const std::vector<std::string>& names, const std::function<Probe(size_t)>& make_probe, double budget,
              const std::string& key, PlanSource source, PlanCache& cache, PlanReport& report) {
  if (source == PlanSource::cached)
    if (const auto hit = cache.get(key))
      for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == *hit) {
          report.chosen = names[i], report.from_cache = true;
          return i;
        }  // a value no candidate has (an edited or stale file): measure again
  std::vector<Probe> probes;
  for (size_t i = 0; i < names.size(); ++i) {
    probes.push_back(make_probe(i));
    probes.back()();  // warm-up
  }
  std::vector<std::vector<double>> runs(names.size());
  const auto start = Clock::now();
  for (int round = 0; round < 40 && (round < 5 || seconds_since(start) < budget); ++round)
    for (size_t i = 0; i < names.size(); ++i) runs[i].push_back(probes[i]());
  std::vector<double> seconds;
  for (size_t i = 0; i < names.size(); ++i) {
    std::nth_element(runs[i].begin(), runs[i].begin() + runs[i].size() / 2, runs[i].end());
    seconds.push_back(runs[i][runs[i].size() / 2]);
    report.timings.push_back({names[i], seconds.back()});
  }
  const size_t best = pick_fastest(seconds);
  report.chosen = names[best];
  cache.put(key, names[best]);
  return best;
}

}  // namespace

PlanSource parse_plan_source(const std::string& name) {
  if (name == "auto") return PlanSource::cached;
  if (name == "measure") return PlanSource::measure;
  if (name == "rule") return PlanSource::rule;
  throw error("unknown plan source '", name, "' (expected auto, measure or rule)");
}

std::string to_string(PlanSource source) {
  switch (source) {
    case PlanSource::cached: return "auto";
    case PlanSource::measure: return "measure";
    case PlanSource::rule: return "rule";
  }
  return "?";
}

size_t pick_fastest(const std::vector<double>& seconds, double margin) {
  if (seconds.empty()) throw error("no candidate plans to pick from");
  size_t best = 0;
  for (size_t i = 1; i < seconds.size(); ++i)
    if (seconds[i] < seconds[best] * (1 - margin)) best = i;
  return best;
}

std::string PlanReport::summary() const {
  std::string text = chosen;
  if (from_cache) return text + " (measured before on this machine; --plan measure to measure again)";
  if (timings.empty()) return text + " (the static rule)";
  text += " (measured:";
  for (const Timing& t : timings) {
    char us[32];
    std::snprintf(us, sizeof us, " %.2f", t.seconds_per_image * 1e6);
    text += (&t == &timings.front() ? " " : "; ") + t.candidate + us + " us/image";
  }
  return text + ")";
}

// ---- training --------------------------------------------------------------------------------

Probe training_step_probe(const Architecture& arch, const Bf16Plan& plan, int64_t batch) {
  auto m = std::make_shared<Model>(arch, batch, Mode::train, plan);
  m->init_params(1);
  fill_noise(m->src(), element_count(m->src_dims()), 2);
  fill_noise(m->diff_dst(), element_count(m->dst_dims()), 3);
  return [m, batch] {
    const auto t = Clock::now();
    m->forward(), m->backward();
    return seconds_since(t) / static_cast<double>(batch);
  };
}

Bf16Plan measured_bf16_plan(const Architecture& arch, TrainPrecision precision, int64_t batch, PlanSource source,
                            PlanCache& cache, PlanReport* report, const TrainStepProbe& probe) {
  PlanReport local;
  PlanReport& r = report ? *report : local;
  Bf16Plan rule = plan_bf16(arch, precision);
  if (precision != TrainPrecision::automatic || source == PlanSource::rule || !cpu_has_native_bf16()) {
    r.chosen = bf16_name(rule);
    return rule;
  }
  // The rule's plan first, then f32, every convolution, and those with more than one input channel.
  std::vector<Bf16Plan> candidates{rule};
  const Bf16Plan every = plan_bf16(arch, TrainPrecision::bf16);
  Bf16Plan wide;
  for (const NamedDims& t : state_shapes(arch))
    if (t.name.starts_with("conv") && t.name.ends_with(".weights") && t.dims[1] > 1)
      wide.layers.insert(t.name.substr(0, t.name.find('.')));
  for (const Bf16Plan& c : {Bf16Plan{}, every, wide})
    if (std::none_of(candidates.begin(), candidates.end(), [&](const Bf16Plan& p) { return p.layers == c.layers; }))
      candidates.push_back(c);
  std::vector<std::string> names;
  for (const Bf16Plan& c : candidates) names.push_back(bf16_name(c));
  if (candidates.size() == 1) {  // no convolutions: nothing to choose
    r.chosen = names[0];
    return rule;
  }
  const size_t best = choose(
      names, [&](size_t i) { return probe(arch, candidates[i], batch); }, 1.0,
      plan_key("measured train", arch, batch, "threads " + std::to_string(omp_get_max_threads())), source, cache, r);
  Bf16Plan chosen = candidates[best];
  if (chosen.layers != rule.layers) chosen.notes.clear();  // the rule's reasons are not this plan's
  return chosen;
}

// ---- inference -------------------------------------------------------------------------------

namespace {

// An inference model with `plan` and the weights, built for one OpenMP thread, `batch` rows of noise in.
std::unique_ptr<Model> noise_model(const Architecture& arch, const std::vector<NamedTensor>& state, int64_t batch,
                                   const Int8Plan& plan) {
  const int omp_before = omp_get_max_threads();
  omp_set_num_threads(1);  // oneDNN sizes a primitive's work for the threads it is built with
  auto m = std::make_unique<Model>(arch, batch, plan);
  omp_set_num_threads(omp_before);
  m->load_state(state);
  fill_noise(m->src(), element_count(m->src_dims()), 4);
  return m;
}

// One such model, one forward a run.
Probe inference_probe(const Architecture& arch, const std::vector<NamedTensor>& state, int64_t batch,
                      const Int8Plan& plan) {
  std::shared_ptr<Model> m = noise_model(arch, state, batch, plan);
  return [m, batch] {
    const auto t = Clock::now();
    m->forward();
    return seconds_since(t) / static_cast<double>(batch);
  };
}

}  // namespace

Int8Plan measured_int8_plan(const Architecture& arch, const std::vector<NamedTensor>& state,
                            const Calibration& calibration, Precision precision, int64_t batch, PlanSource source,
                            PlanCache& cache, PlanReport* report, InferenceProbe probe) {
  PlanReport local;
  PlanReport& r = report ? *report : local;
  // The rule's plan first.
  std::vector<Int8Plan> candidates{plan_int8(arch, calibration, precision)};
  if (precision == Precision::automatic && !calibration.empty())
    for (const Int8Plan& p : {Int8Plan{}, plan_int8(arch, calibration, Precision::int8)})
      if (std::none_of(candidates.begin(), candidates.end(), [&](const Int8Plan& q) { return int8_name(q) == int8_name(p); }))
        candidates.push_back(p);
  std::vector<std::string> names;
  for (const Int8Plan& p : candidates) names.push_back(int8_name(p));
  if (source == PlanSource::rule || candidates.size() == 1) {
    r.chosen = names[0];
    return candidates[0];
  }
  if (!probe) probe = [&](const Int8Plan& p) { return inference_probe(arch, state, batch, p); };
  const size_t best = choose(
      names, [&](size_t i) { return probe(candidates[i]); }, 0.3,
      plan_key("measured inference", arch, batch, "calibration " + std::to_string(calibration.size())), source, cache, r);
  Int8Plan chosen = candidates[best];
  if (best != 0) chosen.notes.clear();  // the rule's reasons are not this plan's
  return chosen;
}

// ---- inference: the rows a model runs at once ------------------------------------------------

namespace {

// `copies` one-thread models with `plan`, each running `rows` rows of noise on its own thread at
// the same time, as classification's executors do. One model alone does not see what the runs
// share: on a Zen 5 (2 cores), seed-pytorch.onnx in f32 timed 2.5% cheaper in runs of 16 than of
// 64 alone, and 10% cheaper with both cores running (docs/plans.md). A call runs each model on
// about 256 rows (whole runs), so every candidate waits on the threads' barriers equally often.
class ConcurrentRuns {
 public:
  ConcurrentRuns(const Architecture& arch, const std::vector<NamedTensor>& state, const Int8Plan& plan, int64_t rows,
                 int copies)
      : rows_(rows), repeats_(std::max<int64_t>(1, 256 / rows)), start_(copies), end_(copies) {
    for (int i = 0; i < copies; ++i) models_.push_back(noise_model(arch, state, rows, plan));
    for (int i = 1; i < copies; ++i)
      helpers_.emplace_back([this, i] {
        for (;;) {
          start_.arrive_and_wait();
          if (quit_) return;
          run(*models_[static_cast<size_t>(i)]);
          end_.arrive_and_wait();
        }
      });
  }
  ~ConcurrentRuns() {
    quit_ = true;
    start_.arrive_and_wait();
    for (std::thread& t : helpers_) t.join();
  }
  ConcurrentRuns(const ConcurrentRuns&) = delete;
  ConcurrentRuns& operator=(const ConcurrentRuns&) = delete;

  // Seconds per image, every copy's images counted.
  double operator()() {
    const auto t = Clock::now();
    start_.arrive_and_wait();
    run(*models_[0]);
    end_.arrive_and_wait();
    return seconds_since(t) / static_cast<double>(rows_ * repeats_ * static_cast<int64_t>(models_.size()));
  }

 private:
  void run(Model& m) const {
    for (int64_t r = 0; r < repeats_; ++r) m.forward();
  }

  int64_t rows_, repeats_;
  std::vector<std::unique_ptr<Model>> models_;
  std::barrier<> start_, end_;
  std::atomic<bool> quit_{false};
  std::vector<std::thread> helpers_;
};

}  // namespace

std::vector<int64_t> run_batch_candidates(int64_t most) {
  if (most < 1) throw error("a run of ", most, " rows");
  std::vector<int64_t> candidates{most};
  int64_t p = 16;
  while (p * 2 < most) p *= 2;
  for (; p >= 16 && p < most; p /= 2) candidates.push_back(p);
  return candidates;
}

int64_t measured_run_batch(const Architecture& arch, const std::vector<NamedTensor>& state, const Int8Plan& plan,
                           int64_t most, PlanSource source, PlanCache& cache, PlanReport* report, RunBatchProbe probe) {
  PlanReport local;
  PlanReport& r = report ? *report : local;
  const std::vector<int64_t> candidates = run_batch_candidates(most);
  std::vector<std::string> names;
  for (int64_t rows : candidates) names.push_back("runs of " + std::to_string(rows));
  if (source == PlanSource::rule || candidates.size() == 1) {
    r.chosen = names[0];
    return most;
  }
  // As many copies as the process may use cores (not --threads: the choice, and so the output, does
  // not depend on it), at most 8 (the cores of one AMD core complex, which share an L3; every
  // candidate's copies are alive at once, so memory grows with the count). The count is part of
  // the key: a container's quota measures on its own.
  const int copies = std::min(usable_cpus(), 8);
  if (!probe)
    probe = [&](int64_t rows) {
      auto runs = std::make_shared<ConcurrentRuns>(arch, state, plan, rows, copies);
      return [runs] { return (*runs)(); };
    };
  const size_t best = choose(
      names, [&](size_t i) { return probe(candidates[i]); }, 0.2,
      plan_key("measured run batch", arch, most, int8_name(plan) + ";copies " + std::to_string(copies)), source,
      cache, r);
  return candidates[best];
}

}  // namespace inkwell::check
