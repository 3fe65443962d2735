// The training and evaluation loops over an in-memory dataset: batches are filled, run through
// the model, scored by softmax cross-entropy and, in training, followed by an optimizer step.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>

#include "inkwell/dataset.hpp"
#include "inkwell/model.hpp"
#include "inkwell/optimizer.hpp"
#include "inkwell/schedule.hpp"

namespace inkwell {

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

// Runs the steps of one pass over data[order] (batches of model.batch(); the last may be short,
// its padded rows get zero gradient) from state.steps_done on, until the end or until *stop is
// set (checked after each step). Loss and accuracy are running means over the epoch, as in
// PyTorch notebooks. With `augment`, every training image is augmented from that generator.
// Returns true when the epoch is complete. Throws if the loss becomes NaN or infinite.
bool train_epoch(Model& model, Optimizer& optimizer, const Dataset& data, std::span<const uint32_t> order,
                 const Normalization& norm, const LearningRate& lr, EpochState& state, const Progress& progress = {},
                 Rng* augment = nullptr, const std::atomic<bool>* stop = nullptr);

// Forward-only pass over data[indices]. With `confusion` (classes x classes), also counts each
// image at [true label][prediction].
Metrics evaluate(Model& model, const Dataset& data, std::span<const uint32_t> indices,
                 const Normalization& norm, std::vector<int64_t>* confusion = nullptr);

}  // namespace inkwell
