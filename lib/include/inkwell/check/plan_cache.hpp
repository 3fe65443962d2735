// What inkwell has found out about plans on this machine, kept across runs: one line a key in
// plans.tsv under the user's cache directory ($INKWELL_CACHE, else $XDG_CACHE_HOME/inkwell, else
// ~/.cache/inkwell). A key starts with machine_key(), so a verdict holds only for the CPU, inkwell
// release, oneDNN version and effective ISA it was found on. The file is the user's own but is read as untrusted:
// bounded in size, lines that do not parse are ignored, and a cache that cannot be read or written
// is no error (the check runs again). Writes replace the file atomically.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "inkwell/nn/spec.hpp"

namespace inkwell::check {

// "AMD EPYC;flags 1f3a...;inkwell 0.1.0;oneDNN 3.7.2;avx512_core_bf16": the CPU's model name and a
// hash of its flags (/proc/cpuinfo), inkwell's release, oneDNN's version and its effective ISA
// (capped by ONEDNN_MAX_CPU_ISA).
std::string machine_key();

// A plan's key: "<machine_key()>;<kind>;<spec>;<input>;batch <batch>;<rest>". `kind` says whose
// verdict it is (plan_check's "threads 2;int8", measured_plan's "measured train").
std::string plan_key(const std::string& kind, const Architecture& arch, int64_t batch, const std::string& rest);

// The cache directory (see above), or "" when there is none.
std::string cache_dir();

class PlanCache {
 public:
  PlanCache();  // the file in cache_dir()
  explicit PlanCache(std::string path);
  std::optional<std::string> get(const std::string& key) const;
  void put(const std::string& key, const std::string& value);  // failures are ignored
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace inkwell::check
