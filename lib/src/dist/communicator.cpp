#include "inkwell/dist/communicator.hpp"

#include <cstdlib>
#include <memory>

#include "inkwell/core/error.hpp"
#include "mpi_communicator.hpp"

namespace inkwell {

namespace {

class Alone final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_size() const override { return 1; }
  void sum(std::span<float>) override {}
  void sum(std::span<double>) override {}
  void start_sum(std::span<float>) override {}
  void poll() override {}
  void finish_sums() override {}
  void broadcast(std::span<float>) override {}
  void broadcast(std::span<int64_t>) override {}
  void broadcast(std::vector<char>&) override {}
  void send(int, std::span<const char>) override { throw error("one process has no other rank to send to"); }
  std::vector<char> receive(int) override { throw error("one process has no other rank to receive from"); }
  bool message_waiting(int) override { return false; }
  [[noreturn]] void abort(int code) override { std::exit(code); }
  std::string describe() const override { return "one process"; }
};

// Started by a launcher that expects this process to join others: Open MPI's mpirun, or a
// PMI/PMIx launcher (srun, hydra).
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (const char* s = std::getenv(v); s && *s) return true;
  return false;
}

}  // namespace

Communicator& world() {
  static const std::unique_ptr<Communicator> instance = []() -> std::unique_ptr<Communicator> {
    if (!launched_by_mpi()) return std::make_unique<Alone>();
    if (std::unique_ptr<Communicator> mpi = make_mpi_communicator()) return mpi;
    const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
    if (size && std::atoi(size) > 1)
      throw error("started by mpirun with ", size, " ranks, but this inkwell was built without MPI "
                  "(install libopenmpi-dev and rebuild; docs/distributed.md)");
    return std::make_unique<Alone>();
  }();
  return *instance;
}

Share share_of(int64_t n, int rank, int size) {
  const int64_t base = n / size, extra = n % size;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

}  // namespace inkwell
