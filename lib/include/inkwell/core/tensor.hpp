// A named tensor in plain (row-major, logical-order) layout: the exchange format between a model,
// its checkpoints and tests. Weights are OIHW / OI, biases are (O).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace inkwell {

using Dims = std::vector<int64_t>;

inline int64_t element_count(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::string to_string(const Dims& dims);  // "16x1x5x5"

struct NamedTensor {
  std::string name;
  Dims dims;
  std::vector<float> data;  // element_count(dims) values
};

}  // namespace inkwell
