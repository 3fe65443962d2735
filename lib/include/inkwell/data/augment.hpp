// Training-time augmentation of grey images (light ink on dark), done on the fly and seeded:
// a random small affine transform (rotation, scale, shift about the centre, bilinear), and
// sometimes a softly thicker or thinner stroke, as scans of real handwriting vary.
#pragma once

#include <cstdint>

#include "inkwell/core/rng.hpp"

namespace inkwell {

struct AugmentConfig {
  double max_rotation_degrees = 12;
  double min_scale = 0.85, max_scale = 1.15;
  double max_shift = 2.5;          // pixels
  double stroke_probability = 0.3; // half of it thicker, half thinner
};

// src, dst: (rows, cols), dst != src.
void augment_image(const uint8_t* src, uint8_t* dst, int64_t rows, int64_t cols, Rng& rng,
                   const AugmentConfig& config = {});

}  // namespace inkwell
