// Finite-difference gradient checking for Models, shared by the layer and model tests.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "inkwell/nn/model.hpp"
#include "inkwell/core/rng.hpp"

namespace inkwell::testing {

struct GradientCheck {
  int checked = 0, at_kinks = 0, failures = 0;
  std::string first_failure;
};

// Compares analytic[i] with central differences of loss() as value(i) is nudged by +-eps, for
// `samples` random i. A coordinate whose one-sided differences disagree sits on a kink (ReLU at 0,
// a max-pool tie) where no derivative exists: it is counted in at_kinks, not checked.
GradientCheck check_gradient(const std::string& what, int64_t size, int samples, Rng& rng,
                             const std::function<float&(int64_t)>& value, const std::function<double()>& loss,
                             const std::function<double(int64_t)>& analytic, double eps = 2e-3);

}  // namespace inkwell::testing
