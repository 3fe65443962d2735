#include "inkwell/core/csv.hpp"

#include "inkwell/core/error.hpp"

namespace inkwell {

std::vector<CsvRow> parse_csv(std::string_view text, const std::string& source) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  int64_t line = 1;
  bool row_started = false;
  auto end_field = [&] { row.fields.push_back(std::move(field)), field.clear(); };
  auto end_row = [&] {
    if (row_started) end_field(), rows.push_back(std::move(row));
    row = CsvRow{}, row_started = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!row_started) row.line = line, row_started = c != '\n' && c != '\r';
    if (c == '"' && field.empty()) {  // a quoted field, to its closing quote
      const int64_t opened = line;
      for (++i;; ++i) {
        if (i >= text.size()) throw error(source, ":", opened, ": unterminated quoted field");
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
          else break;
        } else {
          if (text[i] == '\n') ++line;
          field += text[i];
        }
      }
      const char next = i + 1 < text.size() ? text[i + 1] : '\n';
      if (next != ',' && next != '\n' && next != '\r')
        throw error(source, ":", line, ": unexpected character after a closing quote");
      continue;
    }
    if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_row();
      ++line;
    } else {
      field += c;
    }
  }
  end_row();
  return rows;
}

std::string csv_field(const std::string& s) {
  // A leading byte order mark is quoted too: unquoted at the start of a file, it would be read
  // as the file's BOM and dropped (found by fuzz_csv).
  if (s.find_first_of(",\"\r\n") == std::string::npos && !s.starts_with("\xEF\xBB\xBF")) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace inkwell
