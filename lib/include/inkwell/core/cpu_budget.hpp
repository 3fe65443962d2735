// How many CPUs this process may really use: the CPUs its affinity mask allows, capped by a cgroup
// CPU quota (a container's --cpus=1 shows every core to nproc and hardware_concurrency, but the
// kernel runs the process on one core's worth of time: a thread per core then waits on a throttled
// team). Thread counts default to this, not to the cores the machine has.
#pragma once

#include <optional>
#include <string>

namespace inkwell {

// The quota in CPUs (quota / period) of a cgroup v2 cpu.max ("max 100000", "150000 100000") or
// of cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us; nullopt when there is none or the text
// does not parse.
std::optional<double> parse_cpu_max(const std::string& text);
std::optional<double> parse_cfs_quota(const std::string& quota_us, const std::string& period_us);

// The quota of this process's cgroup (v2, else v1), tightest along the path to the root.
std::optional<double> cgroup_cpu_quota();

// The CPUs this process's affinity mask allows (hardware_concurrency if it cannot be read).
int affinity_cpus();

// min(affinity CPUs, the quota rounded up), at least 1.
int usable_cpus();

// The thread count when none is given: usable_cpus(), or fewer if OMP_NUM_THREADS says so.
int default_threads();

}  // namespace inkwell
