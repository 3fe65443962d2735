// The SVG reports (report.hpp) from any title and class names: lines of the input, the first the
// title. Property: the document is printable UTF-8 (newlines and tabs aside), every '&' starts one of
// XML's five entities, and no text breaks the markup: as many '<' as '>', and each '<' opens a
// tag the writer makes. (tests/test_report.cpp runs xmllint on hostile reports.)
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "inkwell/core/utf8.hpp"
#include "inkwell/train/report.hpp"

namespace {

void check(const std::string& svg) {
  std::string no_newlines;
  for (char c : svg)
    if (c != '\n' && c != '\t') no_newlines += c;
  if (!inkwell::printable_utf8(no_newlines)) std::abort();
  size_t opens = 0, closes = 0;
  for (size_t i = 0; i < svg.size(); ++i) {
    if (svg[i] == '&') {
      bool entity = false;
      for (const char* e : {"&lt;", "&gt;", "&amp;", "&quot;", "&apos;"}) entity |= svg.compare(i, std::string(e).size(), e) == 0;
      if (!entity) std::abort();
    }
    if (svg[i] == '>') ++closes;
    if (svg[i] != '<') continue;
    ++opens;
    bool known = false;
    for (const char* tag : {"<svg", "</svg", "<text", "</text", "<line", "<rect", "<path", "<circle", "<g", "</g", "<?xml", "<title", "</title"})
      known |= svg.compare(i, std::string(tag).size(), tag) == 0;
    if (!known) std::abort();
  }
  if (opens != closes) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> lines(1);
  for (size_t i = 0; i < size && lines.size() < 9; ++i) {
    if (data[i] == '\n') lines.emplace_back();
    else lines.back() += static_cast<char>(data[i]);
  }
  std::vector<inkwell::CurvePoint> points(2);
  for (int e = 0; e < 2; ++e)
    points[e] = {e + 1, 0.5 / (e + 1), 0.9, 0.4, 0.91, 0.41, 0.92};
  check(inkwell::curves_svg(points, lines[0]));
  std::vector<std::string> classes(lines.begin() + 1, lines.end());
  while (classes.size() < 2) classes.push_back("c" + std::to_string(classes.size()));
  std::vector<int64_t> confusion(classes.size() * classes.size());
  for (size_t i = 0; i < confusion.size(); ++i) confusion[i] = static_cast<int64_t>((i * 7 + size) % 23);
  check(inkwell::confusion_svg(classes, confusion));
  return 0;
}
