// The self-test (inkwell-info --selftest): every layer kind inkwell runs, in every precision this
// CPU (as capped by ONEDNN_MAX_CPU_ISA) and oneDNN version run it, forward and, where it trains,
// backward, on one thread and on all, against the double-precision reference net. For a user to
// see in a second or two that inkwell computes right on their machine (docs/decisions.md).
#pragma once

#include <string>
#include <vector>

namespace inkwell::check {

struct SelfTestRow {
  std::string kind;       // "conv", "fc", "max pool", "relu", "batch norm", "dropout"
  std::string spec;       // the small net it runs in
  std::string precision;  // "f32", "bf16", "int8"
  std::string direction;  // "forward", "backward"
  int threads = 1;
  double error = 0;       // relative (L2) error against the reference
  double tolerance = 0;
  bool ok() const { return error <= tolerance; }  // NaN fails
};

std::vector<SelfTestRow> self_test();

}  // namespace inkwell::check
