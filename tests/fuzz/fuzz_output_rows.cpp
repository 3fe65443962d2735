// --resume's reading of an output file, CSV and JSONL, from any bytes. Property: kept rows or an
// inkwell::Error; keep_bytes within the content; every kept row written again reads back the same.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "inkwell/classify/output_rows.hpp"
#include "inkwell/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::vector<std::string> classes = {"0", "1", "a,b", "\xc3\xa9"};
  const auto format = data[0] & 1 ? inkwell::RowFormat::jsonl : inkwell::RowFormat::csv;
  const int top_k = data[0] & 2 ? 2 : 1;
  const std::string_view content(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const inkwell::KeptRows kept = inkwell::read_output_rows(content, format, classes, top_k, "fuzz");
    if (kept.keep_bytes > content.size() || kept.paths.size() != kept.labels.size()) std::abort();
    std::string again = format == inkwell::RowFormat::csv ? inkwell::csv_header(top_k) : "";
    for (size_t i = 0; i < kept.paths.size(); ++i) {
      inkwell::Prediction p{kept.paths[i], kept.labels[i].empty() ? "x" : "", {}, {}};
      if (p.error.empty())
        for (int k = 0; k < top_k; ++k) p.labels.push_back(0), p.probabilities.push_back(0.5f);
      if (!kept.labels[i].empty()) p.labels[0] = static_cast<int>(std::find(classes.begin(), classes.end(), kept.labels[i]) - classes.begin());
      again += inkwell::format_row(p, classes, top_k, format);
    }
    const auto back = inkwell::read_output_rows(again, format, classes, top_k, "again");
    if (back.paths != kept.paths || back.labels != kept.labels) std::abort();
  } catch (const inkwell::Error&) {
  }
  return 0;
}
