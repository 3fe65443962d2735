#include "inkwell/core/cpu_budget.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace inkwell {
namespace {

std::string first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::optional<double> ratio(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return static_cast<double>(quota) / static_cast<double>(period);
}

// This process's cgroup path under `hierarchy` from /proc/self/cgroup ("0::/user.slice/..." for
// v2, "4:cpu,cpuacct:/docker/..." for v1), or nullopt.
std::optional<std::string> own_cgroup(bool v2) {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    std::stringstream list(controllers);
    bool cpu = false;
    for (std::string c; std::getline(list, c, ',');) cpu |= c == "cpu";
    if (v2 ? line.starts_with("0::") : cpu) return line.substr(b + 1);
  }
  return std::nullopt;
}

// The tightest quota from `dir` up to `root`, read by `quota_of(dir)`.
template <typename F>
std::optional<double> tightest(fs::path root, const std::string& cgroup, F quota_of) {
  std::optional<double> best;
  fs::path dir = root / fs::path(cgroup).relative_path();
  for (;;) {
    if (const auto q = quota_of(dir); q && (!best || *q < *best)) best = q;
    if (dir == root || !dir.has_parent_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  return best;
}

}  // namespace

std::optional<double> parse_cpu_max(const std::string& text) {
  std::istringstream in(text);
  std::string quota;
  long long period = 0;
  if (!(in >> quota >> period) || quota == "max") return std::nullopt;
  try {
    size_t used = 0;
    const long long q = std::stoll(quota, &used);
    if (used != quota.size()) return std::nullopt;
    return ratio(q, period);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<double> parse_cfs_quota(const std::string& quota_us, const std::string& period_us) {
  try {
    return ratio(std::stoll(quota_us), std::stoll(period_us));  // quota -1: none
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<double> cgroup_cpu_quota() {
  const fs::path root = "/sys/fs/cgroup";
  std::error_code ec;
  if (fs::exists(root / "cgroup.controllers", ec)) {
    if (const auto cg = own_cgroup(true))
      return tightest(root, *cg, [](const fs::path& d) { return parse_cpu_max(first_line(d / "cpu.max")); });
    return std::nullopt;
  }
  for (const char* mount : {"cpu,cpuacct", "cpu"})
    if (fs::exists(root / mount, ec))
      if (const auto cg = own_cgroup(false))
        return tightest(root / mount, *cg, [](const fs::path& d) {
          return parse_cfs_quota(first_line(d / "cpu.cfs_quota_us"), first_line(d / "cpu.cfs_period_us"));
        });
  return std::nullopt;
}

int affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : static_cast<int>(std::thread::hardware_concurrency());
}

int usable_cpus() {
  int cpus = affinity_cpus();
  if (const auto quota = cgroup_cpu_quota()) cpus = std::min(cpus, static_cast<int>(std::ceil(*quota - 1e-9)));
  return std::max(1, cpus);
}

int default_threads() {
  const int cpus = usable_cpus();
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env && *env) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);  // "4" or "4,2" (nested levels): the first
    if (end != env && n >= 1) return static_cast<int>(std::min<long>(n, cpus));
  }
  return cpus;
}

}  // namespace inkwell
