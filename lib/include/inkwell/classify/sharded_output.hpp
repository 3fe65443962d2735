// `mpirun -np N inkwell-classify` (docs/distributed.md): every rank walks the same sorted tree and
// numbers the same batches; rank r classifies batches r, r+N, r+2N, ... (round-robin), and rank 0
// writes every row, in walk order, so the output is the one-process run's byte for byte.
//
// Ranks other than 0 send each batch to rank 0 as it is done (batch_message.hpp), then `end`.
// Rank 0 writes batch k once every batch before it is written: its own come from its flow graph
// in order; the others' it receives, in order, from their owners (MPI keeps one sender's messages
// in order). A rank that stops early (Ctrl-C, SIGTERM) sends `end` instead of its next batch: the
// output ends there, a prefix that --resume continues; rank 0 tells the ranks still going to
// stop, and reads (and drops) what they still send, up to their `end`. Rank 0 ends the exchange
// with `done` to every rank, so no message is left unread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "inkwell/classify/batch_message.hpp"
#include "inkwell/classify/classify.hpp"
#include "inkwell/dist/communicator.hpp"

namespace inkwell {

class ShardedOutput {
 public:
  // `write` (rank 0) writes one row; `stop` is set when the run must end early: this process's
  // Ctrl-C flag, which also stops its flow graph taking new batches (ClassifyConfig::stop).
  ShardedOutput(Communicator& comm, std::function<void(const Prediction&)> write, std::atomic<bool>& stop);

  // This rank's batch `seq`, from classify_batches' sink. Rank 0 writes it (after the others'
  // batches before it); the others send it.
  void batch(int64_t seq, std::span<const Prediction> rows);

  // After classify_batches, with this rank's stats. Rank 0 writes the other ranks' batches after
  // its own last one; if the output then does not hold the whole walk, `stop` is set.
  void finish(const ClassifyStats& own);

 private:
  void write_up_to(int64_t seq);
  void cut();
  BatchMessage receive(int from);

  Communicator& comm_;
  std::function<void(const Prediction&)> write_;
  std::atomic<bool>& stop_;
  std::vector<bool> ended_;  // rank 0: which ranks have sent `end`
  int64_t next_ = 0;         // rank 0: the next batch to write
  bool cut_ = false;         // rank 0: the output ends at next_
};

}  // namespace inkwell
