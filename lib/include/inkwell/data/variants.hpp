// Real-world style renderings of an MNIST digit, for checking preprocessing and the default
// model on inputs no training run sees: dark ink on light paper, other canvas sizes and aspect
// ratios, off-centre, thicker or thinner strokes, saved as grey, RGB, RGBA with transparent
// paper, or 16-bit PNG.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "inkwell/data/preprocess.hpp"
#include "inkwell/core/rng.hpp"

namespace inkwell {

enum class PngKind { gray8, gray16, rgb, rgba_transparent };
std::string to_string(PngKind kind);

struct Variant {
  int64_t width = 28, height = 28;  // canvas
  double scale = 1;                 // digit size relative to the canvas' shorter side / 28
  double offset_x = 0, offset_y = 0;  // digit centre from canvas centre, fraction of the canvas
  int stroke = 0;                   // > 0 thickens (dilates) by that many pixels, < 0 thins
  bool dark_on_light = true;
  PngKind kind = PngKind::gray8;
};

// A random variant (seeded): canvases 20-300 px of any aspect, digit 40-90% of the shorter side,
// up to 15% off-centre, stroke -1..+2, mostly dark on light.
Variant random_variant(Rng& rng);

// Renders the digit as a PNG file's bytes.
std::vector<uint8_t> render_png(const MnistImage& digit, const Variant& v);

}  // namespace inkwell
