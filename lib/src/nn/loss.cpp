#include "inkwell/nn/loss.hpp"

#include <algorithm>
#include <numeric>
#include <cmath>

#include "inkwell/core/error.hpp"

namespace inkwell {

int64_t argmax(const float* values, int64_t k) {
  return std::max_element(values, values + k) - values;
}

double softmax_terms(std::span<const float> logits, std::span<double> p) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (size_t k = 0; k < logits.size(); ++k) sum += p[k] = std::exp(static_cast<double>(logits[k] - max));
  return sum;
}

void most_probable(std::span<const double> p, std::span<int> out) {
  thread_local std::vector<int> order;
  order.resize(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(out.size()), order.end(),
                    [&](int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  std::copy_n(order.begin(), out.size(), out.begin());
}

LossResult softmax_cross_entropy(std::span<const float> logits, std::span<const uint8_t> labels,
                                 int64_t classes, int64_t count, std::span<float> diff_logits, int64_t divisor) {
  const auto rows = static_cast<int64_t>(logits.size()) / classes;
  if (count < 0 || count > rows || static_cast<int64_t>(labels.size()) < count || divisor < 0 ||
      (count > 0 && divisor > 0 && divisor < count))
    throw error("softmax_cross_entropy: ", count, " rows asked, ", rows, " logits rows, ", labels.size(),
                " labels, divisor ", divisor);
  if (divisor == 0) divisor = count;
  const bool want_diff = !diff_logits.empty();
  std::vector<double> terms(static_cast<size_t>(classes));
  const std::span<double> p(terms);
  LossResult result;
  for (int64_t i = 0; i < count; ++i) {
    const float* x = logits.data() + i * classes;
    const int64_t label = labels[i];
    if (label >= classes) throw error("label ", label, " out of range for ", classes, " classes");
    const float max = x[argmax(x, classes)];
    const double sum = softmax_terms({x, static_cast<size_t>(classes)}, p);
    // -log softmax = log(sum exp(x - max)) - (x_label - max): stable for any logits.
    result.loss_sum += std::log(sum) - (x[label] - max);
    result.correct += argmax(x, classes) == label;
    if (want_diff) {
      float* d = diff_logits.data() + i * classes;
      for (int64_t k = 0; k < classes; ++k) d[k] = static_cast<float>((p[k] / sum - (k == label)) / divisor);
    }
  }
  if (want_diff) std::fill(diff_logits.begin() + count * classes, diff_logits.begin() + rows * classes, 0.f);
  return result;
}

}  // namespace inkwell
