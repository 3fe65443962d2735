// UTF-8, checked strictly: text that files and directory names bring is not trusted to be valid.
#pragma once

#include <cstddef>
#include <string_view>

namespace inkwell {

// The length of the valid UTF-8 sequence at s[i], or 0 (overlong forms, surrogates and code
// points past U+10FFFF are invalid).
size_t utf8_length(std::string_view s, size_t i);

// Whether `s` is valid UTF-8 without control characters (C0, DEL, C1): safe to print to a
// terminal and to write into XML or CSV as it is.
bool printable_utf8(std::string_view s);

}  // namespace inkwell
