// Optimizers over a ParamArena: one loop over the whole arena per step (parameters, gradients and
// state share offsets; layout padding holds zeros and stays zero).
//
// L2 regularisation, two ways:
//   coupled   (Adam, SGD; PyTorch's weight_decay): g <- g + weight_decay * w, before the update
//   decoupled (AdamW; Loshchilov & Hutter):        w <- w - lr * weight_decay * w, beside it
// Like PyTorch, weight decay applies to every parameter, biases included.
#pragma once

#include <string>
#include <vector>

#include "inkwell/nn/params.hpp"

namespace inkwell {

struct OptimizerConfig {
  enum class Kind { adam, adamw, sgd };
  Kind kind = Kind::adam;
  double weight_decay = 0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam, adamw
  double momentum = 0.9;                          // sgd (PyTorch form: v <- mu v + g; w <- w - lr v)
};

OptimizerConfig::Kind parse_optimizer_kind(const std::string& name);  // "adam", "adamw", "sgd"
std::string to_string(OptimizerConfig::Kind kind);

class Optimizer {
 public:
  Optimizer(const OptimizerConfig& config, size_t arena_size);

  // One update of params.values() from params.grads() with learning rate lr.
  void step(ParamArena& params, double lr);

  const OptimizerConfig& config() const { return config_; }
  int64_t steps() const { return steps_; }
  // State laid out like the arena: Adam's m and v, SGD's velocity in m.
  std::vector<float>& m() { return m_; }
  std::vector<float>& v() { return v_; }
  const std::vector<float>& m() const { return m_; }
  const std::vector<float>& v() const { return v_; }
  void set_steps(int64_t steps) { steps_ = steps; }  // when restoring a checkpoint
  // Fine-tuning with frozen layers: the arena's first `floats` values (the first layers'
  // parameters) are left as they are by every step.
  void freeze_prefix(size_t floats) { frozen_ = floats; }
  size_t frozen() const { return frozen_; }

 private:
  OptimizerConfig config_;
  int64_t steps_ = 0;
  size_t frozen_ = 0;
  std::vector<float> m_, v_;
};

}  // namespace inkwell
