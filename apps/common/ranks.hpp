// An app as one rank of several, under mpirun or srun (docs/distributed.md).
#pragma once

#include "inkwell/dist/communicator.hpp"

namespace inkwell::cli {

// The threads a rank runs by default: the cores this process may run on (mpirun binds each rank
// to its own, or leaves every rank all of the node's) shared among the ranks on this node.
int threads_per_rank(const Communicator& comm);

// main()'s last step: an error (exit 1) on one rank of several ends every rank (MPI_Abort, with
// mpirun's message naming the rank), since the others may be waiting for this one forever.
// Otherwise returns `code`.
int end_ranks(int code);

}  // namespace inkwell::cli
