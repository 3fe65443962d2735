// A build without MPI: no MPI communicator (communicator.hpp falls back to one process).
#include "mpi_communicator.hpp"

namespace inkwell {

std::unique_ptr<Communicator> make_mpi_communicator() { return nullptr; }

}  // namespace inkwell
