// Softmax cross-entropy on plain logits, by hand: at 64x10 a primitive would cost more than it
// computes. Rows at and beyond `count` are padding (a short last batch): they add nothing to the
// loss and get a zero gradient, so they add nothing to any parameter gradient either.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace inkwell {

struct LossResult {
  double loss_sum = 0;  // sum over the `count` rows of -log softmax(logits)[label]
  int64_t correct = 0;  // rows whose argmax is the label
};

// logits (N, K) -> loss over the first `count` rows (0 to N); diff_logits (N, K) =
// (softmax - onehot(label)) / divisor for those rows and 0 for the rest, if not empty. divisor 0
// means count: the mean over this batch. Data-parallel training divides by the global batch's
// count, so that summing the ranks' gradients gives its mean.
LossResult softmax_cross_entropy(std::span<const float> logits, std::span<const uint8_t> labels,
                                 int64_t classes, int64_t count, std::span<float> diff_logits, int64_t divisor = 0);

// Index of the largest of k values (the first on ties).
int64_t argmax(const float* values, int64_t k);

// The one softmax, for the loss and for classification: p = exp(x - max) (not yet divided), in
// double, stable for any finite logits. Returns their sum; p / sum are the probabilities.
double softmax_terms(std::span<const float> logits, std::span<double> p);

// The indices of the out.size() largest of `p`, largest first; ties go to the lower index.
void most_probable(std::span<const double> p, std::span<int> out);

}  // namespace inkwell
