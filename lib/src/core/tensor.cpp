#include "inkwell/core/tensor.hpp"

namespace inkwell {

std::string to_string(const Dims& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(dims[i]);
  }
  return s;
}

}  // namespace inkwell
