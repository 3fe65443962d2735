#include "inkwell/train/saved_run.hpp"

#include <charconv>
#include <cstdio>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <type_traits>

#include "inkwell/core/error.hpp"

namespace inkwell {

namespace {

// The keys of one file, read with the file's path in every message.
class MetaReader {
 public:
  MetaReader(const std::map<std::string, std::string>& meta, const std::string& path) : meta_(meta), path_(path) {}

  // A required key; `fallback` (when given) stands in for keys that older checkpoints lack.
  const std::string& text(const char* key, const std::string* fallback = nullptr) const {
    const auto it = meta_.find(key);
    if (it != meta_.end()) return it->second;
    if (fallback) return *fallback;
    throw error(path_, ": not a resumable checkpoint (no '", key, "')");
  }

  // A number in lo..hi, whole or real as T is: the one parse for both (std::from_chars, the
  // whole text, finite).
  template <typename T>
  T number(const char* key, T lo, T hi, std::optional<T> fallback = std::nullopt) const {
    if (fallback && !meta_.contains(key)) return *fallback;
    const std::string& t = text(key);
    T v{};
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size() || t.empty())
      throw error(path_, ": '", key, "' is not a ", std::is_integral_v<T> ? "whole number" : "number");
    if constexpr (std::is_floating_point_v<T>)
      if (!std::isfinite(v)) throw error(path_, ": '", key, "' is ", v, ", outside ", lo, "..", hi);
    if (v < lo || v > hi) throw error(path_, ": '", key, "' is ", v, ", outside ", lo, "..", hi);
    return v;
  }
  template <typename Int>
  Int whole(const char* key, Int lo, Int hi, std::optional<Int> fallback = std::nullopt) const {
    return number<Int>(key, lo, hi, fallback);
  }
  double real(const char* key, double lo, double hi, std::optional<double> fallback = std::nullopt) const {
    return number<double>(key, lo, hi, fallback);
  }

  bool yes_no(const char* key, std::optional<bool> fallback = std::nullopt) const {
    if (fallback && !meta_.contains(key)) return *fallback;
    const std::string& t = text(key);
    if (t != "yes" && t != "no") throw error(path_, ": '", key, "' is neither yes nor no");
    return t == "yes";
  }

  std::string one_of(const char* key, std::initializer_list<const char*> names, const char* fallback = nullptr) const {
    const std::string fb = fallback ? fallback : "";
    const std::string& t = text(key, fallback ? &fb : nullptr);
    for (const char* n : names)
      if (t == n) return t;
    throw error(path_, ": '", key, "' names no ", key, " inkwell knows");  // the value is not echoed: any bytes
  }

 private:
  const std::map<std::string, std::string>& meta_;
  const std::string& path_;
};

}  // namespace

namespace {
std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string yes_no(bool b) { return b ? "yes" : "no"; }
}  // namespace

std::map<std::string, std::string> saved_run_meta(const SavedRun& r) {
  const EpochState& e = r.partial;
  std::map<std::string, std::string> m = {
      {"data", r.data}, {"epochs", std::to_string(r.epochs)}, {"batch", std::to_string(r.batch)},
      {"lr", exact(r.lr)}, {"weight_decay", exact(r.weight_decay)}, {"optimizer", r.optimizer},
      {"schedule", r.schedule}, {"seed", std::to_string(r.seed)}, {"valid", std::to_string(r.valid)},
      {"train_images", std::to_string(r.train_images)}, {"augment", yes_no(r.augment)},
      {"test_fraction", exact(r.test_fraction)}, {"skip_bad", yes_no(r.skip_bad)}, {"keep_best", yes_no(r.keep_best)},
      {"test_at_end", yes_no(r.test_at_end)}, {"init_from", r.init_from}, {"freeze", std::to_string(r.freeze)},
      {"preprocessing", r.preprocessing}, {"precision", r.precision}, {"ranks", std::to_string(r.ranks)},
      {"epoch", std::to_string(r.epoch)}, {"epoch.steps_done", std::to_string(e.steps_done)},
      {"epoch.images", std::to_string(e.images)}, {"epoch.correct", std::to_string(e.correct)},
      {"epoch.loss_sum", exact(e.loss_sum)}, {"epoch.seconds", exact(e.seconds)},
      {"best.epoch", std::to_string(r.best_epoch)}, {"best.valid_acc", exact(r.best_valid_acc)}};
  if (r.optimizer_steps >= 0) m["optimizer.steps"] = std::to_string(r.optimizer_steps);
  return m;
}

SavedRun read_saved_run(const std::map<std::string, std::string>& meta, const std::string& path) {
  const MetaReader m(meta, path);
  const std::string none;
  SavedRun r;
  // The recipe, in the ranges inkwell-train's options take.
  r.data = m.text("data");
  if (r.data.empty()) throw error(path, ": 'data' is empty");
  r.epochs = m.whole<int>("epochs", 1, 100000);
  r.batch = m.whole<int64_t>("batch", 1, 65536);
  r.lr = m.real("lr", 0, 1e6);
  if (r.lr <= 0) throw error(path, ": 'lr' is 0");
  r.weight_decay = m.real("weight_decay", 0, 1);
  r.optimizer = m.one_of("optimizer", {"adam", "adamw", "sgd"});
  r.schedule = m.one_of("schedule", {"cosine", "constant", "onecycle"});
  r.seed = m.whole<uint64_t>("seed", 0, INT64_MAX);
  r.valid = m.whole<int64_t>("valid", 0, INT64_MAX);
  r.train_images = m.whole<int64_t>("train_images", 1, INT64_MAX, int64_t{-1});
  r.augment = m.yes_no("augment");
  r.test_fraction = m.real("test_fraction", 0, 1);
  if (r.test_fraction >= 1) throw error(path, ": 'test_fraction' is 1: no training images");
  r.skip_bad = m.yes_no("skip_bad");
  r.keep_best = m.yes_no("keep_best", false);
  r.test_at_end = m.yes_no("test_at_end", false);
  r.init_from = m.text("init_from", &none);
  r.freeze = m.whole<int>("freeze", 0, 255, 0);
  r.preprocessing = m.one_of("preprocessing", {"mnist", "emnist"}, "mnist");
  r.precision = m.one_of("precision", {"auto", "f32", "bf16"}, "f32");  // runs from before bf16 trained in f32
  r.ranks = m.whole<int>("ranks", 1, 1 << 20, 1);

  // Where it stopped, each against the others.
  r.epoch = m.whole<int>("epoch", 1, r.epochs + 1);
  EpochState& e = r.partial;
  e.steps_done = m.whole<int64_t>("epoch.steps_done", 0, INT64_MAX / 65536);
  e.images = m.whole<int64_t>("epoch.images", 0, e.steps_done * r.batch);
  if (e.steps_done > 0 && e.images <= (e.steps_done - 1) * r.batch)
    throw error(path, ": 'epoch.images' is ", e.images, ", too few for ", e.steps_done, " steps of batch ", r.batch);
  e.correct = m.whole<int64_t>("epoch.correct", 0, e.images);
  // A mean loss per image past 1e4 is no training run's (a softmax over 256 classes starts at 5.5).
  e.loss_sum = m.real("epoch.loss_sum", 0, 1e4 * static_cast<double>(e.images));
  e.seconds = m.real("epoch.seconds", 0, 1e9);
  r.best_epoch = m.whole<int>("best.epoch", 0, r.epoch - 1, 0);
  r.best_valid_acc = m.real("best.valid_acc", -1, 1, -1.0);
  if ((r.best_epoch == 0) != (r.best_valid_acc < 0))
    throw error(path, ": 'best.epoch' and 'best.valid_acc' disagree (one says no epoch was scored)");
  r.optimizer_steps = m.whole<int64_t>("optimizer.steps", e.steps_done, INT64_MAX);
  if (r.complete() && e.steps_done != 0) throw error(path, ": the run is complete but 'epoch.steps_done' is ", e.steps_done);
  return r;
}

std::vector<NamedTensor> optimizer_state(const ParamArena& arena, const Optimizer& optimizer) {
  std::vector<NamedTensor> state;
  for (const Param& p : arena.params()) {
    state.push_back({p.name + ".m", p.dims, arena.read_plain(p, optimizer.m().data())});
    if (!optimizer.v().empty()) state.push_back({p.name + ".v", p.dims, arena.read_plain(p, optimizer.v().data())});
  }
  return state;
}

void restore_optimizer_state(const std::vector<NamedTensor>& state, const std::string& path, const ParamArena& arena,
                             Optimizer& optimizer) {
  std::map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& t : state)
    if (!by_name.emplace(t.name, &t).second) throw error(path, ": optimizer tensor '", t.name, "' appears twice");
  const bool second_moments = !optimizer.v().empty();
  size_t used = 0;
  auto restore = [&](const Param& p, const char* moment, float* base) {
    const auto it = by_name.find(p.name + moment);
    if (it == by_name.end()) throw error(path, ": no optimizer tensor '", p.name, moment, "' (the ", p.name, " parameter's)");
    const NamedTensor& t = *it->second;
    if (t.dims != p.dims)
      throw error(path, ": optimizer tensor '", t.name, "' is ", to_string(t.dims), ", its parameter ", to_string(p.dims));
    for (size_t i = 0; i < t.data.size(); ++i)
      if (!std::isfinite(t.data[i]) || (moment[1] == 'v' && t.data[i] < 0))
        throw error(path, ": optimizer tensor '", t.name, "' holds ", t.data[i], " at ", i,
                    moment[1] == 'v' ? " (second moments are finite and non-negative)" : " (not finite)");
    arena.write_plain(p, base, t.data);
    ++used;
  };
  for (const Param& p : arena.params()) {
    restore(p, ".m", optimizer.m().data());
    if (second_moments) restore(p, ".v", optimizer.v().data());
  }
  if (used != state.size())
    throw error(path, ": ", state.size() - used, " optimizer tensors that no parameter of this model and optimizer has");
}

void check_saved_run_fits_data(const SavedRun& run, const std::string& path, int64_t train_images) {
  if (run.train_images >= 0 && run.train_images != train_images)
    throw error(path, ": the run trained on ", run.train_images, " images an epoch, the data at hand (", run.data,
                ") gives ", train_images, " (", std::llabs(run.train_images - train_images),
                train_images < run.train_images ? " fewer" : " more",
                "): --resume replays the run and needs its data unchanged (start anew, or from this model with --init-from)");
  const int64_t steps = run.steps_per_epoch(train_images);
  if (run.partial.steps_done > steps)
    throw error(path, ": 'epoch.steps_done' is ", run.partial.steps_done, " but an epoch of the data at hand has ", steps,
                " steps: was the data changed since the run was saved?");
  const int64_t expected = static_cast<int64_t>(run.epoch - 1) * steps + run.partial.steps_done;
  if (run.optimizer_steps != expected)
    throw error(path, ": 'optimizer.steps' is ", run.optimizer_steps, " but epoch ", run.epoch, ", step ",
                run.partial.steps_done, " of ", steps, " an epoch makes ", expected,
                ": was the data changed since the run was saved?");
}

}  // namespace inkwell
