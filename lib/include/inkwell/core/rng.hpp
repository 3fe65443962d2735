// A small, fast, portable random number generator (xoshiro256**, seeded by splitmix64).
// The standard distributions are implementation-defined; these are not, so a seed gives the
// same numbers with any compiler.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <utility>

namespace inkwell {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);

  uint64_t next();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n), unbiased.
  uint64_t below(uint64_t n);

  template <typename T>
  void shuffle(std::span<T> items) {  // Fisher-Yates
    for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }

  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_;
};

// A stateless 64-bit hash of (key, index) (splitmix64's finaliser): per-step and per-element
// randomness that does not depend on which thread draws it or in what order.
uint64_t hash64(uint64_t key, uint64_t index);

}  // namespace inkwell
