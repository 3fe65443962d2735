#include "inkwell/train/svg_text.hpp"

#include <cstring>

namespace inkwell {

namespace {

// Advance widths in em of DejaVu Sans (rounded up a little).
double advance(unsigned char c) {
  if (c == ' ') return 0.32;
  if (std::strchr("il.,:;'|!j", c)) return 0.30;
  if (std::strchr("ft()[]{}r-/\\\"", c)) return 0.42;
  if (std::strchr("mwMW%@", c)) return 1.0;
  if (c >= 'A' && c <= 'Z') return 0.78;
  if (c >= '0' && c <= '9') return 0.64;
  return 0.64;
}

size_t code_point_length(unsigned char lead) { return lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1; }

}  // namespace

double text_width(const std::string& text, double size) {
  double em = 0;
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const size_t n = code_point_length(lead);
    em += n == 1 ? advance(lead) : n >= 3 ? 1.0 : 0.8;  // CJK and most symbols are full width
    i += n;
  }
  return em * size;
}

std::string fit_text(const std::string& text, double size, double max_width) {
  if (text_width(text, size) <= max_width) return text;
  const std::string ellipsis = "\xE2\x80\xA6";  // …
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t n = code_point_length(static_cast<unsigned char>(text[i]));
    const std::string next = out + text.substr(i, n);
    if (text_width(next + ellipsis, size) > max_width) break;
    out = next;
    i += n;
  }
  return out + ellipsis;
}

}  // namespace inkwell
