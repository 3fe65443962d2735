#include "gradient_check.hpp"

#include <cmath>
#include <sstream>

namespace inkwell::testing {

GradientCheck check_gradient(const std::string& what, int64_t size, int samples, Rng& rng,
                             const std::function<float&(int64_t)>& value, const std::function<double()>& loss,
                             const std::function<double(int64_t)>& analytic, double eps) {
  GradientCheck result;
  const double base = loss();
  for (int s = 0; s < samples; ++s) {
    const auto i = static_cast<int64_t>(rng.below(static_cast<uint64_t>(size)));
    const float original = value(i);
    value(i) = static_cast<float>(original + eps);
    const double up = loss();
    value(i) = static_cast<float>(original - eps);
    const double down = loss();
    value(i) = original;
    const double forward_diff = (up - base) / eps, backward_diff = (base - down) / eps;
    const double central = (up - down) / (2 * eps), expected = analytic(i);
    if (std::abs(forward_diff - backward_diff) > 0.02 * std::max(1.0, std::abs(central))) {
      ++result.at_kinks;
      continue;
    }
    ++result.checked;
    // f32 resolves a deep net's loss to ~1e-5: differences of eps = 2e-3 carry ~5e-3 of noise.
    if (std::abs(central - expected) > 1e-2 + 2e-2 * std::abs(expected)) {
      if (result.failures++ == 0) {
        std::ostringstream msg;
        msg << what << "[" << i << "]: finite difference " << central << ", analytic " << expected;
        result.first_failure = msg.str();
      }
    }
  }
  return result;
}

}  // namespace inkwell::testing
