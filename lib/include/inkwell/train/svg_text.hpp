// How wide a line of text is in the reports' SVGs, estimated without a font engine: per-character
// advance widths of DejaVu Sans (Debian's default sans-serif, and wider than Arial or Helvetica,
// so a layout that fits it fits them), full width for CJK. The layout leaves room by this measure,
// and the report tests check with it that no text overlaps other text or leaves the canvas.
#pragma once

#include <string>

namespace inkwell {

// The width in pixels of `text` (UTF-8) at font size `size`.
double text_width(const std::string& text, double size);

// `text`, shortened with an ellipsis (at a character boundary) to fit `max_width`.
std::string fit_text(const std::string& text, double size, double max_width);

}  // namespace inkwell
