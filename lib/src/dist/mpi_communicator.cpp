#include "mpi_communicator.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <mpi.h>

#include "inkwell/core/error.hpp"

namespace inkwell {

namespace {

void check(int status, const char* what) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw error(what, ": ", std::string(text, static_cast<size_t>(length)));
}

class Mpi final : public Communicator {
  static constexpr int kTag = 1;

 public:
  Mpi() {
    int provided = 0;
    // One thread at a time calls MPI: the main thread, or classification's serial output node
    // while the main thread waits for the flow graph.
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
    if (provided < MPI_THREAD_SERIALIZED) throw error("this MPI library cannot take calls from more than one thread (MPI_THREAD_SERIALIZED)");
    std::atexit([] {
      int finalized = 0;
      MPI_Finalized(&finalized);
      if (!finalized) MPI_Finalize();
    });
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &local_size_);
    MPI_Comm_free(&node);
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(version, &length);
    library_ = std::string(version, static_cast<size_t>(length));
    library_ = library_.substr(0, library_.find(','));  // "Open MPI v4.1.4"
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_size() const override { return local_size_; }
  void sum(std::span<float> v) override {
    check(MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  void sum(std::span<double> v) override {
    check(MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  void start_sum(std::span<float> v) override {
    MPI_Request request;
    check(MPI_Iallreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request),
          "MPI_Iallreduce");
    pending_.push_back(request);
  }
  void poll() override {
    int done = 0;
    if (!pending_.empty())
      check(MPI_Testall(static_cast<int>(pending_.size()), pending_.data(), &done, MPI_STATUSES_IGNORE), "MPI_Testall");
  }
  void finish_sums() override {
    check(MPI_Waitall(static_cast<int>(pending_.size()), pending_.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
    pending_.clear();
  }
  void broadcast(std::span<float> v) override {
    check(MPI_Bcast(v.data(), static_cast<int>(v.size()), MPI_FLOAT, 0, MPI_COMM_WORLD), "MPI_Bcast");
  }
  void broadcast(std::span<int64_t> v) override {
    check(MPI_Bcast(v.data(), static_cast<int>(v.size()), MPI_INT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
  }
  void broadcast(std::vector<char>& bytes) override {
    int64_t size = static_cast<int64_t>(bytes.size());
    broadcast(std::span<int64_t>(&size, 1));
    bytes.resize(static_cast<size_t>(size));
    for (int64_t at = 0; at < size; at += INT_MAX) {  // MPI counts are ints
      const int n = static_cast<int>(std::min<int64_t>(size - at, INT_MAX));
      check(MPI_Bcast(bytes.data() + at, n, MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
    }
  }
  void send(int to, std::span<const char> bytes) override {
    if (bytes.size() > static_cast<size_t>(INT_MAX)) throw error("a message of ", bytes.size(), " bytes is over MPI's 2 GiB");
    check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, to, kTag, MPI_COMM_WORLD), "MPI_Send");
  }
  std::vector<char> receive(int from) override {
    MPI_Status status;
    check(MPI_Probe(from, kTag, MPI_COMM_WORLD, &status), "MPI_Probe");
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    std::vector<char> bytes(static_cast<size_t>(count));
    check(MPI_Recv(bytes.data(), count, MPI_BYTE, from, kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
    return bytes;
  }
  bool message_waiting(int from) override {
    int flag = 0;
    check(MPI_Iprobe(from, kTag, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE), "MPI_Iprobe");
    return flag != 0;
  }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // not reached: MPI_Abort ends the process
  }
  std::string describe() const override {
    return "MPI (" + library_ + "), " + std::to_string(size_) + " ranks, " + std::to_string(local_size_) + " on this node";
  }

 private:
  int rank_ = 0, size_ = 1, local_size_ = 1;
  std::vector<MPI_Request> pending_;  // start_sum()s not yet finished
  std::string library_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<Mpi>(); }

}  // namespace inkwell
