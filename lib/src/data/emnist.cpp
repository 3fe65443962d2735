#include "inkwell/data/emnist.hpp"

#include <charconv>

#include "inkwell/core/error.hpp"

namespace inkwell {

const std::vector<std::string>& emnist_splits() {
  static const std::vector<std::string> splits = {"letters", "digits", "balanced", "bymerge", "byclass", "mnist"};
  return splits;
}

int emnist_first_label(const std::string& split) { return split == "letters" ? 1 : 0; }

std::vector<std::string> emnist_default_classes(const std::string& split) {
  std::vector<std::string> out;
  auto range = [&](char from, char to) {
    for (char c = from; c <= to; ++c) out.emplace_back(1, c);
  };
  if (split == "letters") {
    range('A', 'Z');
  } else if (split == "digits" || split == "mnist") {
    range('0', '9');
  } else if (split == "byclass") {
    range('0', '9'), range('A', 'Z'), range('a', 'z');
  } else if (split == "bymerge" || split == "balanced") {
    range('0', '9'), range('A', 'Z');
    for (char c : std::string("abdefghnqrt")) out.emplace_back(1, c);
  } else {
    throw error("unknown EMNIST split '", split, "'");
  }
  return out;
}

std::vector<std::string> parse_emnist_mapping(std::string_view text, const std::string& source, int first_label) {
  std::vector<std::string> classes;
  int64_t line_number = 0;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    // Whitespace-separated whole numbers: the label, then one or more character codes.
    std::vector<long> numbers;
    for (size_t at = 0; at < line.size();) {
      if (line[at] == ' ' || line[at] == '\t') {
        ++at;
        continue;
      }
      long v = 0;
      const auto [ptr, ec] = std::from_chars(line.data() + at, line.data() + line.size(), v);
      if (ec != std::errc() || (ptr != line.data() + line.size() && *ptr != ' ' && *ptr != '\t'))
        throw error(source, ":", line_number, ": expected 'label code [code ...]', got '", std::string(line.substr(0, 80)), "'");
      numbers.push_back(v);
      at = static_cast<size_t>(ptr - line.data());
    }
    if (numbers.size() < 2) throw error(source, ":", line_number, ": expected 'label code [code ...]'");
    const long want = first_label + static_cast<long>(classes.size());
    if (numbers[0] != want) throw error(source, ":", line_number, ": label ", numbers[0], " where ", want, " was expected");
    if (numbers[1] < 33 || numbers[1] > 126) throw error(source, ":", line_number, ": character code ", numbers[1], " is not printable ASCII");
    if (classes.size() == 256) throw error(source, ": more than 256 classes");
    classes.emplace_back(1, static_cast<char>(numbers[1]));
  }
  if (classes.empty()) throw error(source, ": no classes");
  return classes;
}

}  // namespace inkwell
