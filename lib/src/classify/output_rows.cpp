#include "inkwell/classify/output_rows.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

#include "inkwell/core/csv.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/core/utf8.hpp"

namespace inkwell {

namespace {

// "%.6f" (to_chars rounds as printf does, without its format parsing and locale: 3x faster).
std::string probability(float p) {
  char num[32];
  const auto end = std::to_chars(num, num + sizeof num, static_cast<double>(p), std::chars_format::fixed, 6).ptr;
  return {num, end};
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | cp >> 6), out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | cp >> 12), out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | cp >> 18), out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3f)), out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// A JSON value as format_row writes them: string, number, null, or an array; objects at the top.
struct Json {
  enum class Kind { string, number, null, array } kind = Kind::null;
  std::string text;  // string: its bytes; number: its digits
  std::vector<Json> items;
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  // {"key": value, ...} with keys in `order`; throws on anything else.
  std::vector<std::pair<std::string, Json>> object() {
    std::vector<std::pair<std::string, Json>> members;
    expect('{');
    if (peek() == '}') return ++i_, members;
    for (;;) {
      std::string key = string();
      expect(':');
      members.emplace_back(std::move(key), value());
      const char c = next();
      if (c == '}') break;
      if (c != ',') fail("expected ',' or '}'");
    }
    if (i_ != s_.size()) fail("text after the object");
    return members;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw error(what, " at column ", i_ + 1); }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  char next() {
    if (i_ >= s_.size()) fail("unexpected end of line");
    return s_[i_++];
  }
  void expect(char c) {
    if (next() != c) fail(std::string("expected '") + c + "'");
  }
  uint32_t hex4() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = next();
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) fail("bad \\u escape");
      v = v << 4 | static_cast<uint32_t>(d);
    }
    return v;
  }
  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      const char c = next();
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      switch (const char e = next()) {
        case '"': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xdc80 && cp <= 0xdcff) {  // surrogateescape: one raw byte
            out += static_cast<char>(cp - 0xdc00);
            break;
          }
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (next() != '\\' || next() != 'u') fail("lone high surrogate");
            const uint32_t low = hex4();
            if (low < 0xdc00 || low > 0xdfff) fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            fail("lone low surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
  }
  Json value() {
    Json v;
    const char c = peek();
    if (c == '"') {
      v.kind = Json::Kind::string, v.text = string();
    } else if (c == '[') {
      v.kind = Json::Kind::array;
      ++i_;
      if (peek() == ']') return ++i_, v;
      for (;;) {
        v.items.push_back(value());
        const char d = next();
        if (d == ']') break;
        if (d != ',') fail("expected ',' or ']'");
      }
    } else if (s_.substr(i_, 4) == "null") {
      i_ += 4;
    } else {
      v.kind = Json::Kind::number;
      while (i_ < s_.size() && std::string_view("0123456789.-+eE").find(s_[i_]) != std::string_view::npos) v.text += s_[i_++];
      if (v.text.empty()) fail("expected a value");
    }
    return v;
  }

  std::string_view s_;
  size_t i_ = 0;
};

bool is_probability(const std::string& text) {
  float p = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), p);
  return ec == std::errc() && end == text.data() + text.size() && p >= 0 && p <= 1;
}

bool is_class(const std::vector<std::string>& classes, const std::string& name) {
  return std::find(classes.begin(), classes.end(), name) != classes.end();
}

// Checks one CSV row's fields; returns its label ("" for an error row) or throws what is wrong.
std::string check_csv_row(const std::vector<std::string>& f, const std::vector<std::string>& classes, int top_k) {
  const size_t columns = 2 + 2 * static_cast<size_t>(top_k);
  if (f.size() != columns) throw error(f.size(), " fields, this run writes ", columns);
  if (f[0].empty()) throw error("empty path");
  if (f[3] == "ok") {
    for (int k = 0; k < top_k; ++k) {
      const std::string& label = f[k == 0 ? 1 : 2 + 2 * k];
      const std::string& p = f[k == 0 ? 2 : 3 + 2 * k];
      if (!is_class(classes, label)) throw error("label '", label, "' is not one of the model's classes");
      if (!is_probability(p)) throw error("confidence '", p, "' is not a probability");
    }
    return f[1];
  }
  if (!f[3].starts_with("error: ")) throw error("status '", f[3], "' is neither 'ok' nor 'error: ...'");
  for (size_t k = 1; k < columns; ++k)
    if (k != 3 && !f[k].empty()) throw error("an error row with a label or confidence");
  return "";
}

// Checks one JSONL row; returns (path, label).
std::pair<std::string, std::string> check_json_row(std::string_view line, const std::vector<std::string>& classes,
                                                   int top_k) {
  const auto members = JsonReader(line).object();
  auto get = [&](const char* key) -> const Json& {
    for (const auto& [k, v] : members)
      if (k == key) return v;
    throw error("no \"", key, "\"");
  };
  const Json& path = get("path");
  const Json& status = get("status");
  if (path.kind != Json::Kind::string || path.text.empty()) throw error("\"path\" is not a file name");
  if (status.kind != Json::Kind::string) throw error("\"status\" is not a string");
  if (status.text == "ok") {
    const Json& label = get("label");
    if (label.kind != Json::Kind::string || !is_class(classes, label.text)) throw error("\"label\" is not one of the model's classes");
    if (get("confidence").kind != Json::Kind::number || !is_probability(get("confidence").text))
      throw error("\"confidence\" is not a probability");
    const size_t expected = top_k > 1 ? 5 : 4;
    if (members.size() != expected) throw error(members.size(), " members, this run writes ", expected);
    if (top_k > 1 && get("top").items.size() != static_cast<size_t>(top_k)) throw error("\"top\" does not hold ", top_k, " entries");
    return {path.text, label.text};
  }
  if (!status.text.starts_with("error: ")) throw error("\"status\" is neither \"ok\" nor \"error: ...\"");
  if (members.size() != 4 || get("label").kind != Json::Kind::null || get("confidence").kind != Json::Kind::null)
    throw error("an error row with a label or confidence");
  return {path.text, ""};
}

// The length of the complete CSV records in `s`: up to the last newline outside quotes.
size_t complete_csv_records(std::string_view s) {
  size_t end = 0;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;  // a doubled quote toggles twice
    else if (s[i] == '\n' && !quoted) end = i + 1;
  }
  return end;
}

}  // namespace

std::string csv_header(int top_k) {
  std::string header = "path,label,confidence,status";
  for (int k = 2; k <= top_k; ++k) header += ",label_" + std::to_string(k) + ",confidence_" + std::to_string(k);
  return header + "\n";
}

std::string json_string(std::string_view bytes) {
  std::string q = "\"";
  for (size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    const size_t n = utf8_length(bytes, i);
    char buf[8];
    if (n == 0) {  // not UTF-8: the byte as a lone low surrogate, U+DC80..U+DCFF
      std::snprintf(buf, sizeof buf, "\\udc%02x", c);
      q += buf, ++i;
    } else if (c == '"' || c == '\\') {
      q += '\\', q += static_cast<char>(c), ++i;
    } else if (c < 0x20 || c == 0x7f) {
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      q += buf, ++i;
    } else {
      q.append(bytes.substr(i, n)), i += n;
    }
  }
  return q + "\"";
}

std::string format_row(const Prediction& row, const std::vector<std::string>& classes, int top_k, RowFormat format) {
  // No cell is ever nan, inf or another non-probability (CSV readers and JSON cannot take the
  // first two, --resume would refuse the file): such a row is written as the error it is.
  const auto first = row.probabilities.begin(), last = first + (row.error.empty() ? top_k : 0);
  const bool finite = std::all_of(first, last, [](float v) { return std::isfinite(v); });
  const bool probabilities = std::all_of(first, last, [](float v) { return v >= 0 && v <= 1; });
  Prediction checked;
  if (!finite) checked = {row.path, "the model's output is not finite (its logits overflowed)", {}, {}};
  else if (!probabilities) checked = {row.path, "the model's output is not a probability (outside 0 to 1)", {}, {}};
  const Prediction& p = probabilities ? row : checked;
  std::string line;
  if (format == RowFormat::csv) {
    line = csv_field(p.path);
    for (int k = 0; k < top_k; ++k) {
      line += ',';
      if (p.error.empty()) line.append(csv_field(classes[p.labels[k]])).append(",").append(probability(p.probabilities[k]));
      else line += ',';
      if (k == 0) line.append(",").append(p.error.empty() ? std::string("ok") : csv_field("error: " + p.error));
    }
    return line + "\n";
  }
  line = "{\"path\":" + json_string(p.path);
  if (!p.error.empty()) return line + ",\"label\":null,\"confidence\":null,\"status\":" + json_string("error: " + p.error) + "}\n";
  line += ",\"label\":" + json_string(classes[p.labels[0]]) + ",\"confidence\":" + probability(p.probabilities[0]) +
          ",\"status\":\"ok\"";
  if (top_k > 1) {
    line += ",\"top\":[";
    for (int k = 0; k < top_k; ++k)
      line += std::string(k ? "," : "") + "[" + json_string(classes[p.labels[k]]) + "," + probability(p.probabilities[k]) + "]";
    line += "]";
  }
  return line + "}\n";
}

KeptRows read_output_rows(std::string_view content, RowFormat format, const std::vector<std::string>& classes,
                          int top_k, const std::string& source) {
  KeptRows kept;
  if (format == RowFormat::csv) {
    kept.keep_bytes = complete_csv_records(content);
    const std::vector<CsvRow> rows = parse_csv(content.substr(0, kept.keep_bytes), source);
    if (rows.empty()) return kept;
    const std::string header = csv_header(top_k);
    if (!content.starts_with(header))
      throw error(source, ": its first line is not this run's header '", header.substr(0, header.size() - 1), "'");
    kept.has_header = true;
    for (size_t r = 1; r < rows.size(); ++r) {
      try {
        kept.labels.push_back(check_csv_row(rows[r].fields, classes, top_k));
      } catch (const Error& e) {
        throw error(source, ": row ", r, " (line ", rows[r].line, "): ", e.what());
      }
      kept.paths.push_back(rows[r].fields[0]);
    }
    return kept;
  }
  const size_t last_newline = content.rfind('\n');
  kept.keep_bytes = last_newline == std::string_view::npos ? 0 : last_newline + 1;
  size_t start = 0;
  for (int64_t row = 1; start < kept.keep_bytes; ++row) {
    const size_t end = content.find('\n', start);
    try {
      auto [path, label] = check_json_row(content.substr(start, end - start), classes, top_k);
      kept.paths.push_back(std::move(path));
      kept.labels.push_back(std::move(label));
    } catch (const Error& e) {
      throw error(source, ": row ", row, ": ", e.what());
    }
    start = end + 1;
  }
  return kept;
}

}  // namespace inkwell
