// CSV as RFC 4180 and spreadsheets write it: fields separated by commas, rows by LF or CRLF, a
// field in double quotes may hold commas, quotes (doubled) and line breaks; a UTF-8 byte order
// mark at the start is skipped. Used for manifests and for the rows inkwell-classify writes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace inkwell {

struct CsvRow {
  std::vector<std::string> fields;
  int64_t line = 0;  // the line the row starts on, from 1
};

// Throws inkwell::Error "<source>:<line>: ..." for an unterminated quote or a stray character
// after a closing quote. Empty lines are skipped.
std::vector<CsvRow> parse_csv(std::string_view text, const std::string& source);

// A field quoted when it has to be (a comma, quote, CR or LF in it, or a leading BOM).
std::string csv_field(const std::string& s);

}  // namespace inkwell
