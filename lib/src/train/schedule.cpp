#include "inkwell/train/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "inkwell/core/error.hpp"

namespace inkwell {

Schedule parse_schedule(const std::string& name) {
  if (name == "constant") return Schedule::constant;
  if (name == "cosine") return Schedule::cosine;
  if (name == "onecycle") return Schedule::onecycle;
  throw error("unknown schedule '", name, "' (expected constant, cosine or onecycle)");
}

std::string to_string(Schedule schedule) {
  switch (schedule) {
    case Schedule::constant: return "constant";
    case Schedule::cosine: return "cosine";
    case Schedule::onecycle: return "onecycle";
  }
  return "?";
}

double learning_rate(Schedule schedule, double lr, int64_t step, int64_t total_steps) {
  const double total = static_cast<double>(std::max<int64_t>(total_steps, 1));
  // Interpolates a -> b along half a cosine as t goes 0 -> 1.
  auto cos_anneal = [](double a, double b, double t) { return b + (a - b) * (1 + std::cos(std::numbers::pi * t)) / 2; };
  switch (schedule) {
    case Schedule::constant: return lr;
    case Schedule::cosine: return cos_anneal(lr, 0, std::min(step / total, 1.0));
    case Schedule::onecycle: {
      const double initial = lr / 25, final = initial / 1e4;
      const double warmup = 0.3 * total - 1;  // PyTorch: pct_start * total_steps - 1
      const auto s = static_cast<double>(step);
      if (s <= warmup) return cos_anneal(initial, lr, warmup > 0 ? s / warmup : 1);
      return cos_anneal(lr, final, std::min((s - warmup) / (total - 1 - warmup), 1.0));
    }
  }
  return lr;
}

}  // namespace inkwell
