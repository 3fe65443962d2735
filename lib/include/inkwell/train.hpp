// The training and evaluation loops over an in-memory dataset: batches are filled, run through
// the model, scored by softmax cross-entropy and, in training, followed by an optimizer step.
#pragma once

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

// One pass over data[order] in batches of model.batch(); the last batch may be short (padded
// rows get zero gradient). Loss and accuracy are running means over the epoch, as in PyTorch
// notebooks. Throws if the loss becomes NaN or infinite.
// With `augment`, every training image is augmented on the fly from that generator.
Metrics train_epoch(Model& model, Optimizer& optimizer, const Dataset& data,
                    std::span<const uint32_t> order, const Normalization& norm,
                    const LearningRate& lr, const Progress& progress = {}, Rng* augment = nullptr);

// Forward-only pass over data[indices]. With `confusion` (classes x classes), also counts each
// image at [true label][prediction].
Metrics evaluate(Model& model, const Dataset& data, std::span<const uint32_t> indices,
                 const Normalization& norm, std::vector<int64_t>* confusion = nullptr);

}  // namespace inkwell
