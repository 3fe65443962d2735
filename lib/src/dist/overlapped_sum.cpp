#include "inkwell/dist/overlapped_sum.hpp"

#include <algorithm>

namespace inkwell {

void OverlappedGradientSum::ready(size_t begin, size_t end) {
  if (begin < end) start(begin, end);
  comm_.poll();  // MPI moves started sums along only inside its calls
}

void OverlappedGradientSum::finish() {
  std::vector<std::pair<size_t, size_t>> done = started_;
  std::sort(done.begin(), done.end());
  size_t at = 0;
  for (const auto& [begin, end] : done) {
    if (begin > at) start(at, begin);
    at = std::max(at, end);
  }
  if (at < grads_.size()) start(at, grads_.size());
  comm_.finish_sums();
  started_.clear();
}

void OverlappedGradientSum::start(size_t begin, size_t end) {
  comm_.start_sum(grads_.subspan(begin, end - begin));
  started_.emplace_back(begin, end);
}

}  // namespace inkwell
