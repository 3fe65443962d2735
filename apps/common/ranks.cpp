#include "ranks.hpp"

#include <algorithm>
#include <thread>

#include "cli.hpp"
#include "inkwell/core/cpu_budget.hpp"

namespace inkwell::cli {

int threads_per_rank(const Communicator& comm) {
  // Bound to its own core(s), a rank has them all; unbound, it shares the node's.
  const int shared = affinity_cpus() >= static_cast<int>(std::thread::hardware_concurrency()) ? comm.local_size() : 1;
  return std::max(1, usable_cpus() / shared);
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
