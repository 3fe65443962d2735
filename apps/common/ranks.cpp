#include "ranks.hpp"

#include <sched.h>

#include <algorithm>
#include <thread>

#include "cli.hpp"

namespace inkwell::cli {

int threads_per_rank(const Communicator& comm) {
  cpu_set_t set;
  CPU_ZERO(&set);
  const int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                               : static_cast<int>(std::thread::hardware_concurrency());
  // Bound to its own core(s), a rank has them all; unbound, it shares the node's.
  const int shared = cores >= static_cast<int>(std::thread::hardware_concurrency()) ? comm.local_size() : 1;
  return std::max(1, cores / shared);
}

int end_ranks(int code) {
  if (code != kRuntimeError) return code;
  try {
    if (Communicator& comm = world(); !comm.alone()) comm.abort(code);
  } catch (const std::exception&) {  // no MPI to end the others with: they were told already (world())
  }
  return code;
}

}  // namespace inkwell::cli
