// UTF-8, checked strictly: text that files and directory names bring is not trusted to be valid.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace inkwell {

// The length of the valid UTF-8 sequence at s[i], or 0 (overlong forms, surrogates and code
// points past U+10FFFF are invalid).
size_t utf8_length(std::string_view s, size_t i);

// Whether `s` is valid UTF-8 without control characters (C0, DEL, C1) or U+FFFE/U+FFFF: safe to print to a
// terminal and to write into XML or CSV as it is.
bool printable_utf8(std::string_view s);

// `s` with every byte that is not printable UTF-8 written as the four characters \xNN: control
// characters (but newline and tab), DEL, C1 controls, U+FFFE/U+FFFF and bytes of invalid UTF-8. What a path or
// a class name from a file becomes before it reaches a terminal or an SVG report: it can then
// neither move the cursor nor break the XML, and the bytes it held can still be told.
std::string visible(std::string_view s);

}  // namespace inkwell
