#include "inkwell/core/utf8.hpp"

#include <algorithm>
#include <cstdint>

namespace inkwell {

size_t utf8_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xe0) == 0xc0) n = 2, cp = c & 0x1f;
  else if ((c & 0xf0) == 0xe0) n = 3, cp = c & 0x0f;
  else if ((c & 0xf8) == 0xf0) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (byte(i + k) & 0x3f);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

namespace {
// The length of the printable character at s[i] (a valid sequence, no control), or 0.
size_t printable_length(std::string_view s, size_t i) {
  const size_t n = utf8_length(s, i);
  const auto c = static_cast<unsigned char>(s[i]);
  if (n == 1 && (c < 0x20 || c == 0x7f)) return 0;
  if (n == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0) return 0;  // C1: U+0080-U+009F
  if (n == 3 && c == 0xef && s[i + 1] == '\xbf' && static_cast<unsigned char>(s[i + 2]) >= 0xbe) return 0;  // U+FFFE, U+FFFF: not XML
  return n;
}
}  // namespace

bool printable_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = printable_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string visible(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = printable_length(s, i);
    if (n > 0 || s[i] == '\n' || s[i] == '\t') {
      out.append(s, i, std::max<size_t>(n, 1));
      i += std::max<size_t>(n, 1);
      continue;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    const auto c = static_cast<unsigned char>(s[i++]);
    out += {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
  }
  return out;
}

}  // namespace inkwell
