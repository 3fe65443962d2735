// --resume's reading of an output file, CSV and JSONL, from any bytes. Property: kept rows or an
// inkwell::Error; keep_bytes within the content; every kept row written again reads back the same.
// With bit 2 of the first byte set, the writer's side instead (round_trip below).
#include <cstdint>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "inkwell/classify/output_rows.hpp"
#include "inkwell/core/error.hpp"

// The writer's side: a row made of the input (its probabilities' bits, then its path) is written
// and read back. Property: whatever the floats (nan, inf, denormal, 1e30), the line holds no nan or
// inf, --resume accepts it, and it reads back as the same path: an error row unless each is in 0..1.
void round_trip(const uint8_t* data, size_t size) {
  const std::vector<std::string> classes = {"0", "1", "a,b"};
  const auto format = data[0] & 1 ? inkwell::RowFormat::jsonl : inkwell::RowFormat::csv;
  const int top_k = data[0] & 2 ? 2 : 1;
  if (size < 1 + 4 * 2) return;
  inkwell::Prediction p;
  for (int k = 0; k < top_k; ++k) {
    float v;
    std::memcpy(&v, data + 1 + 4 * k, 4);
    p.labels.push_back(k), p.probabilities.push_back(v);
  }
  p.path.assign(reinterpret_cast<const char*>(data) + 9, size - 9);
  if (p.path.empty()) return;  // a walk never yields one (walk.cpp skips empty roots)
  const std::string line = (format == inkwell::RowFormat::csv ? inkwell::csv_header(top_k) : "") +
                           inkwell::format_row(p, classes, top_k, format);
  inkwell::Prediction short_path = p;  // the cells but the path: no nan or inf among them
  short_path.path = "p";
  const std::string cells = inkwell::format_row(short_path, classes, top_k, format);
  for (const char* bad : {"nan", "inf", "NAN", "INF"})
    if (cells.find(bad) != std::string::npos) std::abort();
  const inkwell::KeptRows back = inkwell::read_output_rows(line, format, classes, top_k, "round trip");
  if (back.paths != std::vector<std::string>{p.path}) std::abort();
  const bool ok = std::all_of(p.probabilities.begin(), p.probabilities.end(), [](float v) { return v >= 0 && v <= 1; });
  if (back.labels[0].empty() == ok) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 4) {
    try {
      round_trip(data, size);
    } catch (const inkwell::Error&) {
      std::abort();  // a row the writer made that --resume refuses
    }
    return 0;
  }
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
