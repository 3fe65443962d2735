#include "inkwell/check/measured_plan.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>

#include "inkwell/check/plan_cache.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/core/tensor.hpp"
#include "inkwell/nn/model.hpp"

namespace inkwell::check {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Runs `once` (after one warm-up run) until `budget` seconds or `max_runs` runs, at least 3; the
// median run's seconds.
double median_run(const std::function<void()>& once, double budget, int max_runs) {
  once();
  std::vector<double> runs;
  const auto start = Clock::now();
  while (runs.size() < 3 || (static_cast<int>(runs.size()) < max_runs && seconds_since(start) < budget)) {
    const auto t = Clock::now();
    once();
    runs.push_back(seconds_since(t));
  }
  std::nth_element(runs.begin(), runs.begin() + runs.size() / 2, runs.end());
  return runs[runs.size() / 2];
}

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

std::string key_of(const std::string& kind, const Architecture& arch, int64_t batch, const std::string& extra) {
  std::ostringstream k;
  k << machine_key() << ";threads " << omp_get_max_threads() << ";measured " << kind << ";" << arch.spec << ";"
    << inkwell::to_string(arch.input) << ";batch " << batch << ";" << extra;
  return k.str();
}

// The candidates' index by cache or by timing; fills `report`.
size_t choose(const std::vector<std::string>& names, const std::function<double(size_t)>& seconds_per_image,
              const std::string& key, PlanSource source, PlanCache& cache, PlanReport& report) {
  if (source == PlanSource::cached)
    if (const auto hit = cache.get(key))
      for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == *hit) {
          report.chosen = names[i], report.from_cache = true;
          return i;
        }  // a value no candidate has (an edited or stale file): measure again
  std::vector<double> seconds;
  for (size_t i = 0; i < names.size(); ++i) {
    seconds.push_back(seconds_per_image(i));
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

double time_training_step(const Architecture& arch, const Bf16Plan& plan, int64_t batch) {
  Model m(arch, batch, Mode::train, plan);
  m.init_params(1);
  fill_noise(m.src(), element_count(m.src_dims()), 2);
  fill_noise(m.diff_dst(), element_count(m.dst_dims()), 3);
  return median_run([&] { m.forward(), m.backward(); }, 0.25, 30) / static_cast<double>(batch);
}

Bf16Plan measured_bf16_plan(const Architecture& arch, TrainPrecision precision, int64_t batch, PlanSource source,
                            PlanCache& cache, PlanReport* report, const TrainStepTimer& timer) {
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
  const size_t best = choose(
      names, [&](size_t i) { return timer(arch, candidates[i], batch); }, key_of("train", arch, batch, ""), source,
      cache, r);
  Bf16Plan chosen = candidates[best];
  if (chosen.layers != rule.layers) chosen.notes.clear();  // the rule's reasons are not this plan's
  return chosen;
}

// ---- inference -------------------------------------------------------------------------------

namespace {

// `executors` models, each on its own thread with `threads_each` OpenMP threads, run batches at
// once; seconds per image of the whole.
double time_inference(const Architecture& arch, const std::vector<NamedTensor>& state, int64_t batch,
                      const Int8Plan& plan, int executors, int threads_each) {
  const int omp_before = omp_get_max_threads();
  omp_set_num_threads(threads_each);  // oneDNN sizes a primitive's work for the threads it is built with
  std::vector<std::unique_ptr<Model>> models;
  for (int e = 0; e < executors; ++e) {
    models.push_back(std::make_unique<Model>(arch, batch, plan));
    models.back()->load_state(state);
    fill_noise(models.back()->src(), element_count(models.back()->src_dims()), 4 + e);
  }
  omp_set_num_threads(omp_before);
  // Each round, every executor runs `reps` forwards; the round's wall time counts.
  int reps = 1;
  std::barrier sync(executors + 1);
  std::atomic<bool> done = false;
  std::vector<std::thread> workers;
  for (int e = 0; e < executors; ++e)
    workers.emplace_back([&, e] {
      omp_set_num_threads(threads_each);
      for (;;) {
        sync.arrive_and_wait();  // a round starts
        if (done) return;
        for (int i = 0; i < reps; ++i) models[e]->forward();
        sync.arrive_and_wait();  // and ends
      }
    });
  auto round = [&] {
    sync.arrive_and_wait();
    sync.arrive_and_wait();
  };
  // A round of about 5 ms, so that a round is not all start-up.
  const auto t = Clock::now();
  round();
  reps = static_cast<int>(std::clamp(0.005 / std::max(seconds_since(t), 1e-6), 1.0, 64.0));
  const double seconds = median_run(round, 0.04, 7);
  done = true;
  sync.arrive_and_wait();
  for (std::thread& w : workers) w.join();
  return seconds / static_cast<double>(reps * executors * batch);
}

}  // namespace

InferencePlan measured_inference_plan(const Architecture& arch, const std::vector<NamedTensor>& state,
                                      const Calibration& calibration, Precision precision, int executors,
                                      int threads_each, int64_t batch, PlanSource source, PlanCache& cache,
                                      PlanReport* report, InferenceTimer timer) {
  PlanReport local;
  PlanReport& r = report ? *report : local;
  executors = std::max(1, executors), threads_each = std::max(1, threads_each);
  // The rule's plan first.
  std::vector<Int8Plan> candidates{plan_int8(arch, calibration, precision)};
  if (precision == Precision::automatic && !calibration.empty())
    for (const Int8Plan& p : {Int8Plan{}, plan_int8(arch, calibration, Precision::int8)})
      if (std::none_of(candidates.begin(), candidates.end(), [&](const Int8Plan& q) { return int8_name(q) == int8_name(p); }))
        candidates.push_back(p);
  std::vector<std::string> names;
  for (const Int8Plan& p : candidates) names.push_back(int8_name(p));
  InferencePlan out{candidates[0], executors, threads_each};
  if (source == PlanSource::rule || candidates.size() == 1) {
    r.chosen = names[0];
    return out;
  }
  if (!timer)
    timer = [&](const Int8Plan& p, int e, int t) { return time_inference(arch, state, batch, p, e, t); };
  const std::string layout = std::to_string(executors) + " model(s) x " + std::to_string(threads_each) + " thread(s)";
  const size_t best = choose(
      names, [&](size_t i) { return timer(candidates[i], executors, threads_each); },
      key_of("inference", arch, batch, layout + ";calibration " + std::to_string(calibration.size())), source, cache, r);
  out.int8 = candidates[best];
  if (best != 0) out.int8.notes.clear();  // the rule's reasons are not this plan's
  return out;
}

}  // namespace inkwell::check
