// One training step shared out over the cores as micro-batches (docs/decisions.md).
//
// A step's batch is cut into micro-batches of kMicroBatch rows (more for a very large model). W single-thread models take
// micro-batches from a shared counter: each fills its rows (read, augment, normalise), runs
// forward, loss and backward, and leaves that micro-batch's gradients in the micro-batch's own
// slot. The slots are then summed in micro-batch order into the first model's gradients, which
// the optimizer reads. So:
// - the step gives the same bytes for any W and any interleaving: a run is reproducible with any
//   --threads, and a resumed run is the uninterrupted one;
// - a worker whose core another process holds takes fewer micro-batches instead of stalling an
//   OpenMP team at every layer (one team over two cores kept 0.34 of its quiet rate when another
//   process took a core; micro-batches keep more: docs/performance.md);
// - two single-thread models on micro-batches of 8 ran the seed model's step 1.15x (f32) and
//   1.13x (bf16) faster than one two-thread team on the batch of 64 (AMD Zen 5).
// Batch norm needs the whole batch's statistics, so a model with one trains on one team instead
// (TrainingRun decides), as do data-parallel ranks.
#pragma once

#include <atomic>
#include <barrier>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "inkwell/data/dataset.hpp"
#include "inkwell/nn/bf16.hpp"
#include "inkwell/nn/loss.hpp"
#include "inkwell/nn/model.hpp"

namespace inkwell {

inline constexpr int64_t kMicroBatch = 8;
// The micro-batches' gradient slots take at most this many bytes: a model with many parameters
// gets larger micro-batches (fewer slots) instead.
inline constexpr int64_t kMaxSlotBytes = int64_t{256} << 20;

// Whether `arch` can train on micro-batches: no layer couples the rows of a batch (batch norm).
bool trains_on_micro_batches(const Architecture& arch);

// The micro-batch for steps of `batch` rows: kMicroBatch, larger when the slots would pass
// kMaxSlotBytes, never more than the batch.
int64_t micro_batch_size(const Architecture& arch, int64_t batch);

class StepWorkers {
 public:
  // `master`: the run's model, built with one OpenMP thread at micro_batch_size(); `workers` - 1
  // more like it are built here. `batch`: rows a step.
  StepWorkers(Model& master, const Bf16Plan& plan, int workers, int64_t batch);
  ~StepWorkers();
  StepWorkers(const StepWorkers&) = delete;
  StepWorkers& operator=(const StepWorkers&) = delete;

  int workers() const { return static_cast<int>(extra_.size()) + 1; }
  int64_t batch() const { return batch_; }

  // Forward and backward over the step's rows: `rows` holds batch() dataset indices of which the
  // first `count` count (the rest fill up a short last batch and get no gradient). Leaves the
  // gradient of the mean loss over the counted rows in master.params().grads(). Row r is augmented
  // from (augment_key, r) and micro-batch j's dropout draws from hash64(noise_key, j). A row that
  // cannot be read throws the lowest such micro-batch's error, whatever the interleaving.
  LossResult step(const Dataset& data, std::span<const uint32_t> rows, int64_t count, const Normalization& norm,
                  std::optional<uint64_t> augment_key, uint64_t noise_key);

 private:
  void work(int worker);  // claims micro-batches until none are left
  void run_micro(Model& m, int64_t j);

  Model& master_;
  std::vector<std::unique_ptr<Model>> extra_;
  int64_t batch_, micro_, micros_;
  std::vector<std::vector<float>> slots_;  // a micro-batch's gradients
  std::vector<LossResult> results_;
  std::vector<std::exception_ptr> errors_;
  // The step under way, for the workers.
  struct Job {
    const Dataset* data = nullptr;
    std::span<const uint32_t> rows;
    int64_t count = 0;
    const Normalization* norm = nullptr;
    std::optional<uint64_t> augment_key;
    uint64_t noise_key = 0;
  } job_;
  std::atomic<int64_t> next_{0};
  std::atomic<bool> quit_{false};
  std::barrier<> start_, end_;
  std::vector<std::thread> threads_;
};

}  // namespace inkwell
