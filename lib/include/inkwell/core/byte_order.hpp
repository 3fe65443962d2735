// Big-endian integers in file formats (IDX headers, PNG chunks).
#pragma once

#include <cstdint>

namespace inkwell {

inline uint32_t load_big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace inkwell
