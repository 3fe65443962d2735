// The MPI implementation of Communicator, or none in a build without MPI.
#pragma once

#include <memory>

#include "inkwell/dist/communicator.hpp"

namespace inkwell {

// MPI's world (MPI_Init_thread on the first call, MPI_Finalize at exit); null without MPI.
std::unique_ptr<Communicator> make_mpi_communicator();

}  // namespace inkwell
