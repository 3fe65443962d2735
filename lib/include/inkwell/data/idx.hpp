// IDX files (MNIST, Fashion-MNIST, EMNIST), raw or gzip-compressed:
//   magic: 0x00 0x00 <type 0x08 = unsigned byte> <rank>, then rank big-endian u32 dims, then data.
// Only unsigned-byte data is accepted (every dataset inkwell reads uses it). The file must hold
// exactly the data its dims announce; anything else is an error naming the file, what was
// expected and what was found.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "inkwell/core/tensor.hpp"

namespace inkwell {

struct IdxArray {
  Dims dims;
  std::vector<uint8_t> data;  // element_count(dims) bytes
};

IdxArray read_idx(const std::string& path);

// The same from a file's bytes, raw or gzip'd (gunzipped no further than the header declares);
// errors name `source`.
IdxArray parse_idx(std::vector<uint8_t> file_bytes, const std::string& source);

}  // namespace inkwell
