// The training and evaluation loops: batches are prepared on the batch pipeline, run through the
// model, scored by softmax cross-entropy and, in training, followed by an optimizer step.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>

#include "inkwell/data/dataset.hpp"
#include "inkwell/dist/communicator.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/train/optimizer.hpp"
#include "inkwell/train/schedule.hpp"

namespace inkwell {

class StepWorkers;

struct Metrics {
  double loss = 0;      // mean cross-entropy
  double accuracy = 0;  // fraction correct
  int64_t images = 0;
  double seconds = 0;   // wall time
};

struct LearningRate {
  Schedule schedule = Schedule::constant;
  double lr = 1e-3;
  int64_t total_steps = 1;  // over the whole run, for cosine / onecycle
};

// Called after every step with (steps done this epoch, steps this epoch, running mean loss).
using Progress = std::function<void(int64_t, int64_t, double)>;

// Where an epoch stands: enough to stop after any step and go on later from there.
struct EpochState {
  int64_t steps_done = 0;
  double loss_sum = 0;
  int64_t correct = 0, images = 0;
  double seconds = 0;
  Metrics metrics() const;  // running means so far
};

// How batches are prepared (docs/decisions.md): kAutoPrefetch fills each batch right before its
// step, on the step's own OpenMP team, when that team has every core (the pipeline would only
// take cycles from the step), and 4 batches ahead on the batch pipeline when the machine has
// cores the step does not use. N > 0: N ahead on the pipeline; 0: right before each step.
inline constexpr int kAutoPrefetch = -1;
int resolve_prefetch(int prefetch, int step_threads);

struct TrainOptions {
  bool augment = false;  // augment_image on every training image
  uint64_t seed = 0;     // augmentation and dropout draw from (seed, global step): any schedule,
                         // any resume point gives the same numbers
  int prefetch = kAutoPrefetch;
  // Data-parallel training (docs/distributed.md): each of comm's ranks runs the same model on
  // its share of every global batch of model.batch() x ranks images, and the gradients, loss and
  // counts are summed over the ranks after each step. Null, or one rank: one process.
  Communicator* comm = nullptr;
  // With comm: false sums the gradients in one allreduce after backward; true sums each layer's
  // as soon as the backward pass has finished them (overlapped_sum.hpp). The same sums either way.
  bool overlap_allreduce = false;
  // One process: the steps run on these micro-batch workers (step_workers.hpp; `model` is their
  // master), which fill their own rows; prefetch and comm are not used.
  StepWorkers* workers = nullptr;
};

// Runs the steps of one pass over data[order] (batches of model.batch()) from state.steps_done
// on, until the end or until *stop is set (checked after each step). Images are read, decoded,
// augmented and normalised in parallel: by the step's OpenMP team right before the step, or on
// the batch pipeline (batch_pipeline.hpp) while earlier steps run (options.prefetch). A short last batch is filled up with the epoch's first images so that batch norm
// sees only real images; those rows get zero gradient and are not counted. Loss and accuracy
// are running means over the epoch, as in PyTorch notebooks. Returns true when the epoch is
// complete. Throws if the loss becomes NaN or infinite, or an image cannot be read (naming it).
bool train_epoch(Model& model, Optimizer& optimizer, const Dataset& data, std::span<const uint32_t> order,
                 const Normalization& norm, const LearningRate& lr, EpochState& state, const TrainOptions& options = {},
                 const Progress& progress = {}, const std::atomic<bool>* stop = nullptr);

// Forward-only pass over data[indices], batches prepared as train_epoch's. With `confusion`
// (classes x classes), also counts each image at [true label][prediction].
// With `comm`, each rank scores its contiguous share of the indices and the figures (and the
// confusion counts) are summed: every rank returns the whole set's.
Metrics evaluate(Model& model, const Dataset& data, std::span<const uint32_t> indices, const Normalization& norm,
                 std::vector<int64_t>* confusion = nullptr, int prefetch = kAutoPrefetch, Communicator* comm = nullptr);

}  // namespace inkwell
