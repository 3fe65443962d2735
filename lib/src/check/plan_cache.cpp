#include "inkwell/check/plan_cache.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "inkwell/core/atomic_file.hpp"
#include "inkwell/core/read_file.hpp"
#include "inkwell/nn/dnnl_compat.hpp"

namespace fs = std::filesystem;

namespace inkwell::check {
namespace {

constexpr uint64_t kMaxCacheBytes = 1 << 20;  // far more than any machine's verdicts need

std::map<std::string, std::string> read_lines(const std::string& path) {
  std::map<std::string, std::string> entries;
  std::vector<uint8_t> bytes;
  try {
    bytes = read_regular_file(path, kMaxCacheBytes);
  } catch (const std::exception&) {
    return entries;  // missing, too large or unreadable: checked again
  }
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  for (std::string line; std::getline(in, line);) {
    const size_t tab = line.find('\t');
    if (tab != std::string::npos && tab > 0) entries[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return entries;
}

// Keys and values are one line each, without tabs: anything else is made so.
std::string one_field(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

std::string machine_key() {
  std::string model = "unknown CPU", flags;
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("model name") && model == "unknown CPU") model = line.substr(line.find(':') + 2);
    if (line.starts_with("flags") && flags.empty()) flags = line.substr(line.find(':') + 1);
  }
  std::ostringstream key;
  key << model << ";flags " << std::hex << std::hash<std::string>{}(flags) << std::dec << ";inkwell " INKWELL_VERSION ";"
      << compat::version() << ";" << compat::isa_name();
  return one_field(key.str());
}

std::string plan_key(const std::string& kind, const Architecture& arch, int64_t batch, const std::string& rest) {
  std::ostringstream k;
  k << machine_key() << ";" << kind << ";" << arch.spec << ";" << to_string(arch.input) << ";batch " << batch << ";" << rest;
  return k.str();
}

std::string cache_dir() {
  if (const char* d = std::getenv("INKWELL_CACHE"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return (fs::path(x) / "inkwell").string();
  if (const char* h = std::getenv("HOME"); h && *h) return (fs::path(h) / ".cache" / "inkwell").string();
  return "";
}

PlanCache::PlanCache() : path_(cache_dir().empty() ? "" : (fs::path(cache_dir()) / "plans.tsv").string()) {}

PlanCache::PlanCache(std::string path) : path_(std::move(path)) {}

std::optional<std::string> PlanCache::get(const std::string& key) const {
  if (path_.empty()) return std::nullopt;
  const auto entries = read_lines(path_);
  const auto it = entries.find(one_field(key));
  if (it == entries.end()) return std::nullopt;
  return it->second;
}

void PlanCache::put(const std::string& key, const std::string& value) {
  if (path_.empty()) return;
  auto entries = read_lines(path_);
  entries[one_field(key)] = one_field(value);
  std::string text;
  for (const auto& [k, v] : entries) text += k + "\t" + v + "\n";
  if (text.size() > kMaxCacheBytes) return;
  try {
    std::error_code ec;
    fs::create_directories(fs::path(path_).parent_path(), ec);
    write_file_atomically(path_, text);
  } catch (const std::exception&) {
    // A read-only home or a full disk: the verdict is found again next time.
  }
}

}  // namespace inkwell::check
