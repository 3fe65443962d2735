#include "inkwell/data/augment.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace inkwell {

void augment_image(const uint8_t* src, uint8_t* dst, int64_t rows, int64_t cols, Rng& rng, const AugmentConfig& c) {
  const double angle = rng.uniform(-c.max_rotation_degrees, c.max_rotation_degrees) * std::numbers::pi / 180;
  const double scale = rng.uniform(c.min_scale, c.max_scale);
  const double tx = rng.uniform(-c.max_shift, c.max_shift), ty = rng.uniform(-c.max_shift, c.max_shift);
  const double stroke = rng.uniform();

  // dst(p) = src(A^-1 (p - centre - t) + centre), A = scale * rotation: bilinear, 0 outside.
  const double cx = (cols - 1) / 2.0, cy = (rows - 1) / 2.0;
  const double cos_a = std::cos(angle) / scale, sin_a = std::sin(angle) / scale;
  auto pixel = [&](int64_t y, int64_t x) -> double {
    return y >= 0 && y < rows && x >= 0 && x < cols ? src[y * cols + x] : 0.0;
  };
  std::vector<uint8_t> out(rows * cols);
  for (int64_t y = 0; y < rows; ++y)
    for (int64_t x = 0; x < cols; ++x) {
      const double dx = x - cx - tx, dy = y - cy - ty;
      const double sx = cos_a * dx + sin_a * dy + cx, sy = -sin_a * dx + cos_a * dy + cy;
      const auto x0 = static_cast<int64_t>(std::floor(sx)), y0 = static_cast<int64_t>(std::floor(sy));
      const double fx = sx - x0, fy = sy - y0;
      const double v = (1 - fy) * ((1 - fx) * pixel(y0, x0) + fx * pixel(y0, x0 + 1)) +
                       fy * ((1 - fx) * pixel(y0 + 1, x0) + fx * pixel(y0 + 1, x0 + 1));
      out[y * cols + x] = static_cast<uint8_t>(std::clamp(v + 0.5, 0.0, 255.0));
    }

  // Stroke: half-way towards the max (thicker) or min (thinner) of the 4-neighbourhood.
  const bool thicker = stroke < c.stroke_probability / 2, thinner = !thicker && stroke < c.stroke_probability;
  for (int64_t y = 0; y < rows; ++y)
    for (int64_t x = 0; x < cols; ++x) {
      const int v = out[y * cols + x];
      if (!thicker && !thinner) {
        dst[y * cols + x] = static_cast<uint8_t>(v);
        continue;
      }
      int m = v;
      for (const auto& [oy, ox] : {std::pair{-1, 0}, {1, 0}, {0, -1}, {0, 1}}) {
        const int64_t yy = y + oy, xx = x + ox;
        const int n = yy >= 0 && yy < rows && xx >= 0 && xx < cols ? out[yy * cols + xx] : 0;
        m = thicker ? std::max(m, n) : std::min(m, n);
      }
      dst[y * cols + x] = static_cast<uint8_t>((v + m + 1) / 2);
    }
}

}  // namespace inkwell
