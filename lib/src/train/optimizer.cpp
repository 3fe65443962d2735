#include "inkwell/train/optimizer.hpp"

#include <cmath>

#include "inkwell/core/error.hpp"

namespace inkwell {

OptimizerConfig::Kind parse_optimizer_kind(const std::string& name) {
  if (name == "adam") return OptimizerConfig::Kind::adam;
  if (name == "adamw") return OptimizerConfig::Kind::adamw;
  if (name == "sgd") return OptimizerConfig::Kind::sgd;
  throw error("unknown optimizer '", name, "' (expected adam, adamw or sgd)");
}

std::string to_string(OptimizerConfig::Kind kind) {
  switch (kind) {
    case OptimizerConfig::Kind::adam: return "adam";
    case OptimizerConfig::Kind::adamw: return "adamw";
    case OptimizerConfig::Kind::sgd: return "sgd";
  }
  return "?";
}

Optimizer::Optimizer(const OptimizerConfig& config, size_t arena_size)
    : config_(config), m_(arena_size, 0.f), v_(config.kind == OptimizerConfig::Kind::sgd ? 0 : arena_size, 0.f) {}

// From this many parameters on (the best preset's 0.87M, not the seed's 29k, whose update costs
// less than forking a team), the update runs on the caller's OpenMP threads. Each value is
// updated on its own: the result is the same for any thread count (tests/test_optimizer.cpp).
constexpr int64_t kParallelFrom = 1 << 16;

void Optimizer::step(ParamArena& params, double lr) {
  if (params.size() != m_.size()) throw error("optimizer state has ", m_.size(), " values, the arena ", params.size());
  ++steps_;
  float* w = params.values();
  const float* g = params.grads();
  const auto n = static_cast<int64_t>(params.size()), first = static_cast<int64_t>(frozen_);
  const auto wd = static_cast<float>(config_.weight_decay);
  float* m = m_.data();

  if (config_.kind == OptimizerConfig::Kind::sgd) {
    const auto mu = static_cast<float>(config_.momentum), rate = static_cast<float>(lr);
#pragma omp parallel for simd schedule(static) if (n - first >= kParallelFrom)
    for (int64_t i = first; i < n; ++i) {
      const float grad = g[i] + wd * w[i];
      m[i] = mu * m[i] + grad;
      w[i] -= rate * m[i];
    }
    return;
  }

  // Adam / AdamW with bias correction folded into the step size (as PyTorch does).
  const double b1 = config_.beta1, b2 = config_.beta2;
  const double correction1 = 1 - std::pow(b1, static_cast<double>(steps_));
  const double correction2 = 1 - std::pow(b2, static_cast<double>(steps_));
  const auto step_size = static_cast<float>(lr / correction1);
  const auto inv_sqrt_c2 = static_cast<float>(1 / std::sqrt(correction2));
  const auto eps = static_cast<float>(config_.eps);
  const auto fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
  const bool coupled = config_.kind == OptimizerConfig::Kind::adam;
  const float decay = coupled ? 1.f : static_cast<float>(1 - lr * config_.weight_decay);
  float* v = v_.data();
#pragma omp parallel for simd schedule(static) if (n - first >= kParallelFrom)
  for (int64_t i = first; i < n; ++i) {
    const float grad = coupled ? g[i] + wd * w[i] : g[i];
    m[i] = fb1 * m[i] + (1 - fb1) * grad;
    v[i] = fb2 * v[i] + (1 - fb2) * grad * grad;
    w[i] = decay * w[i] - step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_c2 + eps);
  }
}

}  // namespace inkwell
