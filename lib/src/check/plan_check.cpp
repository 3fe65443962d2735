#include "inkwell/check/plan_check.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include "inkwell/check/plan_cache.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/nn/model.hpp"

namespace inkwell::check {
namespace {

// Tolerances against f32 on the probe. A trained model's int8 logits differ by 0.5-2% (docs/int8.md)
// and bf16's by under 1%; a misplaced weight or compensation gives 25-190% (docs/decisions.md).
constexpr double kLogitTolerance = 0.08;
constexpr double kGradientTolerance = 0.1;
constexpr double kLabelAgreement = 0.9;
constexpr int64_t kProbeImages = 64;

struct Outcome {
  double error = 0;      // relative L2 error of the logits (bf16: the larger of logits and gradients)
  double agreement = 1;  // fraction of probe images with the same label
  bool ok() const { return error <= kLogitTolerance && agreement >= kLabelAgreement; }  // NaN fails
};

double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  double d = 0, w = 0;
  for (size_t i = 0; i < want.size(); ++i) d += double(got[i] - want[i]) * (got[i] - want[i]), w += double(want[i]) * want[i];
  return w > 0 ? std::sqrt(d / w) : (d > 0 ? INFINITY : 0);
}

double label_agreement(const std::vector<float>& a, const std::vector<float>& b, int64_t classes) {
  const int64_t n = static_cast<int64_t>(a.size()) / classes;
  int64_t same = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto row = [&](const std::vector<float>& v) { return v.begin() + i * classes; };
    same += std::max_element(row(a), row(a) + classes) - row(a) == std::max_element(row(b), row(b) + classes) - row(b);
  }
  return n ? static_cast<double>(same) / static_cast<double>(n) : 1;
}

// bf16's probe: uniform noise over the range a normalised digit takes, fixed by seed.
std::vector<float> noise(const Architecture& arch, int64_t images) {
  Rng rng(20261206);
  std::vector<float> x(static_cast<size_t>(images * element_count(arch.input)));
  for (float& v : x) v = static_cast<float>(rng.uniform(-0.5, 2.8));
  return x;
}

// int8's probe: on each blank page (C, H, W), a pen 2 pixels wide wanders 40 steps from a random
// point, as a scribble; pixels are 0 or 255, normalised as the model's inputs.
std::vector<float> scribbles(const Architecture& arch, const Normalization& norm, int64_t images) {
  Rng rng(20261206);
  const int64_t c = arch.input[0], h = arch.input[1], w = arch.input[2], page = c * h * w;
  const float blank = (0.f - norm.mean) / norm.std, ink = (1.f - norm.mean) / norm.std;
  std::vector<float> x(static_cast<size_t>(images * page), blank);
  for (int64_t i = 0; i < images; ++i) {
    double y = rng.uniform(h * 0.25, h * 0.75), xx = rng.uniform(w * 0.25, w * 0.75), angle = rng.uniform(0, 6.283);
    for (int step = 0; step < 40; ++step) {
      angle += rng.uniform(-0.6, 0.6);
      y = std::clamp(y + std::sin(angle), 1.0, h - 2.0), xx = std::clamp(xx + std::cos(angle), 1.0, w - 2.0);
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t dy = 0; dy < 2; ++dy)
          for (int64_t dx = 0; dx < 2; ++dx)
            x[i * page + ch * h * w + (static_cast<int64_t>(y) + dy) * w + static_cast<int64_t>(xx) + dx] = ink;
    }
  }
  return x;
}

// Runs `m` over the probe, batch by batch (the last one padded with the first images).
std::vector<float> logits(Model& m, const std::vector<float>& x) {
  const int64_t batch = m.src_dims()[0], per = element_count(m.src_dims()) / batch;
  const int64_t images = static_cast<int64_t>(x.size()) / per, outputs = element_count(m.dst_dims()) / batch;
  std::vector<float> out;
  for (int64_t first = 0; first < images; first += batch) {
    for (int64_t r = 0; r < batch; ++r) std::copy_n(x.data() + (first + r) % images * per, per, m.src() + r * per);
    m.forward();
    const int64_t rows = std::min(batch, images - first);
    out.insert(out.end(), m.dst(), m.dst() + rows * outputs);
  }
  return out;
}

std::string key_of(const std::string& kind, const Architecture& arch, int64_t batch, const std::set<std::string>& layers) {
  std::string rest;
  for (const std::string& l : layers) rest += l + " ";
  return plan_key("threads " + std::to_string(omp_get_max_threads()) + ";" + kind, arch, batch, rest);
}

std::string note_for(const std::string& layer, const std::string& precision, double error) {
  char e[32];
  std::snprintf(e, sizeof e, "%.3g", error);
  return layer + " runs in f32: in " + precision + " it disagreed with f32 on this machine (relative error " + e +
         " on the probe; " + compat::version() + ", " + compat::isa_name() + ")";
}

// The shared procedure. `layers`: the plan's low-precision layers. `outcome(subset)` runs the
// plan restricted to `subset` against f32. Returns the layers to keep and notes for the others;
// cached as "ok <error>" or "f32 <layer> <error> ...".
std::set<std::string> checked_layers(const std::string& kind, const std::string& key,
                                     const std::set<std::string>& layers,
                                     const std::function<Outcome(const std::set<std::string>&)>& outcome,
                                     PlanCache& cache, std::vector<std::string>& notes) {
  std::set<std::string> keep = layers;
  if (const auto verdict = cache.get(key)) {
    std::istringstream in(*verdict);
    std::string word, layer;
    double error = 0;
    if (in >> word && word == "f32")
      while (in >> layer >> error)
        if (keep.erase(layer)) notes.push_back(note_for(layer, kind, error));
    if (word == "ok" || word == "f32") return keep;  // else a line that does not parse: check again
    keep = layers;
  }
  const Outcome whole = outcome(layers);
  char whole_error[32];
  std::snprintf(whole_error, sizeof whole_error, "%.4g", whole.error);
  std::string verdict = std::string("ok ") + whole_error;
  if (!whole.ok()) {
    verdict = "f32";
    std::vector<std::pair<std::string, double>> dropped;
    for (const std::string& l : layers)
      if (const Outcome o = outcome({l}); !o.ok()) dropped.emplace_back(l, o.error), keep.erase(l);
    // The layers that pass alone must pass together (int8 hands u8 from one to the next).
    if (!keep.empty() && !outcome(keep).ok()) {
      for (const std::string& l : keep) dropped.emplace_back(l, whole.error);
      keep.clear();
    }
    for (const auto& [l, e] : dropped) {
      notes.push_back(note_for(l, kind, e));
      char e_text[32];
      std::snprintf(e_text, sizeof e_text, "%.4g", e);
      verdict += " " + l + " " + e_text;
    }
  }
  cache.put(key, verdict);
  return keep;
}

// An int8 plan restricted to `layers`: a layer whose next int8 layer is gone hands on f32.
Int8Plan restricted(const Architecture& arch, const Int8Plan& plan, const std::set<std::string>& layers) {
  Int8Plan out;
  out.notes = plan.notes;
  out.warnings = plan.warnings;
  const auto order = quantizable_layers(arch);
  for (size_t i = 0; i < order.size(); ++i) {
    const auto it = plan.layers.find(order[i].first);
    if (it == plan.layers.end() || !layers.count(it->first)) continue;
    Int8Layer l = it->second;
    if (l.dst_scale != 0 && (i + 1 >= order.size() || !layers.count(order[i + 1].first))) l.dst_scale = 0;
    out.layers[it->first] = l;
  }
  return out;
}

}  // namespace

Int8Plan check_int8_plan(const Architecture& arch, const std::vector<NamedTensor>& state, const Normalization& norm,
                         Int8Plan plan, int64_t batch, PlanCache& cache) {
  if (plan.layers.empty()) return plan;
  std::set<std::string> layers;
  for (const auto& [name, l] : plan.layers) layers.insert(name);
  // The probe and f32's logits are made only when the cache holds no verdict (they cost more than
  // the rest of a cached start: an f32 model, its first run).
  std::vector<float> x, want;
  int64_t classes = 0;
  auto outcome = [&](const std::set<std::string>& subset) {
    if (want.empty()) {
      x = scribbles(arch, norm, kProbeImages);
      Model f32(arch, batch, Mode::infer);
      f32.load_state(state);
      want = logits(f32, x);
      classes = element_count(f32.dst_dims()) / batch;
    }
    Model m(arch, batch, restricted(arch, plan, subset));
    m.load_state(state);
    const std::vector<float> got = logits(m, x);
    return Outcome{relative_error(got, want), label_agreement(got, want, classes)};
  };
  const std::set<std::string> keep =
      checked_layers("int8", key_of("int8", arch, batch, layers), layers, outcome, cache, plan.warnings);
  return restricted(arch, plan, keep);
}

Int8Plan check_int8_plan(const Architecture& arch, const std::vector<NamedTensor>& state, const Normalization& norm,
                         Int8Plan plan, int64_t batch) {
  PlanCache cache;
  return check_int8_plan(arch, state, norm, std::move(plan), batch, cache);
}

Bf16Plan check_bf16_plan(const Architecture& arch, Bf16Plan plan, int64_t batch, PlanCache& cache) {
  if (plan.layers.empty()) return plan;
  const std::vector<float> x = noise(arch, batch);
  // One step's logits and weight gradients; the loss gradient is fixed pseudo-random.
  auto step = [&](Model& m) {
    m.init_params(7);
    std::vector<float> out = logits(m, x);
    Rng rng(3);
    for (int64_t i = 0; i < element_count(m.dst_dims()); ++i) m.diff_dst()[i] = static_cast<float>(rng.uniform(-1, 1));
    m.backward();
    std::vector<float> grads;
    for (const Param& p : m.params().params()) {
      const std::vector<float> g = m.params().read_plain(p, m.params().grads());
      grads.insert(grads.end(), g.begin(), g.end());
    }
    return std::pair{out, grads};
  };
  std::optional<std::pair<std::vector<float>, std::vector<float>>> want;  // f32's (logits, gradients), made when needed
  auto outcome = [&](const std::set<std::string>& subset) {
    if (!want) {
      Model f32(arch, batch, Mode::train);
      want = step(f32);
    }
    const auto& [want_logits, want_grads] = *want;
    Model m(arch, batch, Mode::train, Bf16Plan{subset, {}, {}});
    const auto [got_logits, got_grads] = step(m);
    const double grads = relative_error(got_grads, want_grads) * kLogitTolerance / kGradientTolerance;
    // Labels are not compared: an untrained model's labels are noise.
    return Outcome{std::max(relative_error(got_logits, want_logits), grads), 1};
  };
  plan.layers = checked_layers("bf16", key_of("bf16", arch, batch, plan.layers), plan.layers, outcome, cache, plan.warnings);
  return plan;
}

Bf16Plan check_bf16_plan(const Architecture& arch, Bf16Plan plan, int64_t batch) {
  PlanCache cache;
  return check_bf16_plan(arch, std::move(plan), batch, cache);
}

}  // namespace inkwell::check
