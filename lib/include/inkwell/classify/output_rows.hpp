// The rows inkwell-classify writes, one per file, and reading them back for --resume.
//   CSV:   path,label,confidence,status[,label_2,confidence_2,...]  (RFC 4180 quoting: a path with
//          a comma, quote or line break is quoted)
//   JSONL: {"path":..,"label":..,"confidence":..,"status":"ok"[,"top":[[label,p],...]]}, or
//          {"path":..,"label":null,"confidence":null,"status":"error: <reason>"}
// Paths are bytes. JSONL is UTF-8: a byte that is not part of valid UTF-8 is written as \udcXX
// (Python's surrogateescape, which os.fsencode undoes), so any file name round-trips.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "inkwell/classify/classify.hpp"

namespace inkwell {

enum class RowFormat { csv, jsonl };

std::string csv_header(int top_k);  // with its newline
// One row, with its newline; `classes` names the labels. A row whose probabilities are not all
// in 0..1 (nan and inf included) is written as an error row: no cell is ever nan or inf.
std::string format_row(const Prediction& p, const std::vector<std::string>& classes, int top_k, RowFormat format);
// A JSON string literal for `bytes` (quotes, escapes, \udcXX for bytes outside valid UTF-8).
std::string json_string(std::string_view bytes);

// What an output file already holds: its complete rows, checked.
struct KeptRows {
  std::vector<std::string> paths;   // in order
  std::vector<std::string> labels;  // the row's label, or "" for an error row
  size_t keep_bytes = 0;            // the complete rows' length; a partial last row lies beyond
  bool has_header = false;          // CSV: the file starts with this run's header line
};

// Reads back `content` written by format_row with these settings. A partial last row (no final
// newline: the process was killed mid-write) is left beyond keep_bytes. Anything else that is not
// such a row (garbage, other columns, a label that is not a class, a bad escape) throws
// "<source>: row N: <what>", naming the first bad row: --resume refuses the file rather than
// delete rows it cannot vouch for (docs/decisions.md).
KeptRows read_output_rows(std::string_view content, RowFormat format, const std::vector<std::string>& classes,
                          int top_k, const std::string& source);

}  // namespace inkwell
