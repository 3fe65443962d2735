// More than one process (docs/distributed.md): the few calls data-parallel training and sharded
// classification need. MPI provides them when inkwell is built with Open MPI and the process was
// started by mpirun or srun; otherwise every process is alone, rank 0 of 1, and nothing is
// communicated.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace inkwell {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Ranks on this node, for sharing its cores (Open MPI's local size; 1 when alone).
  virtual int local_size() const = 0;
  // Element-wise sums over all ranks, in place; every rank gets the same result.
  virtual void sum(std::span<float> values) = 0;
  virtual void sum(std::span<double> values) = 0;
  // Non-blocking sums, as sum(): start_sum() begins one (the values must stay untouched), poll()
  // lets MPI move the started ones along, finish_sums() waits for all of them.
  virtual void start_sum(std::span<float> values) = 0;
  virtual void poll() = 0;
  virtual void finish_sums() = 0;
  // Rank 0's values, on every rank.
  virtual void broadcast(std::span<float> values) = 0;
  virtual void broadcast(std::span<int64_t> values) = 0;
  // Rank 0's bytes, however many, on every rank (resized to fit).
  virtual void broadcast(std::vector<char>& bytes) = 0;
  // Point to point (any one thread at a time): messages from one rank to another arrive in the
  // order sent. receive() waits for the next message from `from`.
  virtual void send(int to, std::span<const char> bytes) = 0;
  virtual std::vector<char> receive(int from) = 0;
  // Whether a message from `from` is waiting (receive() would not wait).
  virtual bool message_waiting(int from) = 0;
  // Ends every rank's process with `code` (MPI_Abort): for an error on one rank that the others,
  // waiting for it, would never learn of.
  [[noreturn]] virtual void abort(int code) = 0;
  // "MPI (Open MPI 4.1.4), 2 ranks" or "one process".
  virtual std::string describe() const = 0;
  bool alone() const { return size() == 1; }
};

// The process's communicator: MPI's world when launched by mpirun or srun (MPI is initialised on
// the first call and finalised at exit), else a communicator of one. Built without MPI, always
// the latter; launched by mpirun anyway, it says so (error) rather than run N copies of one job.
Communicator& world();

// The share of `n` items (or rows) rank `rank` of `size` takes: contiguous, sizes differing by
// at most one, earlier ranks taking the larger shares. [begin, end).
struct Share {
  int64_t begin, end;
};
Share share_of(int64_t n, int rank, int size);

}  // namespace inkwell
