// CSV (manifests) from any bytes. Property: parse_csv gives rows or an inkwell::Error, and the
// rows it gives, written back with csv_field, parse to the same fields (quoting round-trips).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "inkwell/core/csv.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/data/image_dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<inkwell::CsvRow> rows;
  try {
    rows = inkwell::parse_csv({reinterpret_cast<const char*>(data), size}, "fuzz.csv");
  } catch (const inkwell::Error&) {
    return 0;
  }
  std::string again;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.fields.size(); ++i) again += (i ? "," : "") + inkwell::csv_field(row.fields[i]);
    again += "\n";
    for (const std::string& field : row.fields) {
      try {
        inkwell::check_class_name(field, "fuzz.csv");
      } catch (const inkwell::Error&) {
      }
    }
  }
  const auto back = inkwell::parse_csv(again, "again");
  size_t k = 0;
  for (const auto& row : rows) {
    if (row.fields.size() == 1 && row.fields[0].empty()) continue;  // a lone empty field writes an empty line
    if (k >= back.size() || back[k++].fields != row.fields) std::abort();
  }
  return 0;
}
