// inkwell-train's command line: the settings of a run, parsed and checked (exit 2 on any bad one).
#pragma once

#include <cstdint>
#include <string>

#include "../common/progress.hpp"
#include "inkwell/train/train.hpp"

namespace inkwell::train_app {

// How many training images validate: a count, or a share of the training set capped at a count.
struct ValidSize {
  double fraction = 0.1;   // used when count < 0
  int64_t count = -1;
  int64_t cap = 5000;      // of a fraction: MNIST's 60k give 5,000, as the notebook held out
  int64_t resolve(int64_t train_images) const;
};

// Defaults reproduce the PyTorch notebook: Adam, lr 1e-3, L2 1e-4, batch 64, 5,000 validation images;
// a preset with a recipe of its own (--model best) changes epochs, batch, lr, weight decay,
// schedule and augmentation unless they are given.
struct Options {
  std::string data = "mnist";      // mnist | fashion | IDX directory | image tree | CSV manifest
  double test_fraction = 1.0 / 7;  // held out as test data from a single image tree or manifest (MNIST's 10k of 70k)
  bool skip_bad = false;           // image data: count and skip bad files instead of stopping
  std::string model = "seed";      // preset name or spec string (lib/include/inkwell/nn/spec.hpp)
  int epochs = 5;
  int64_t batch = 64;
  double lr = 1e-3;
  double weight_decay = 1e-4;
  std::string optimizer = "adam";   // adam | adamw | sgd
  std::string schedule = "cosine";  // decays to 0 over the run: +0.3 points over constant (docs/decisions.md)
  uint64_t seed = 0;
  int threads = 0;                  // 0: all cores
  ValidSize valid;                  // held out of the training set for validation
  int64_t eval_batch = 500;         // batch of the inference model used for valid/test
  std::string out = "runs/latest";
  bool augment = false;             // random affine + stroke augmentation of training images
  bool resume = false;              // settings and state come from out/model.inkw
  bool force = false;               // start over in an --out that holds an unfinished run
  bool keep_best = false;           // also keep best.inkw, the epoch with the best validation accuracy
  bool test_at_end = false;         // score the test set after the last epoch only
  std::string init_from;            // fine-tuning: start from this model's matching tensors
  int freeze = 0;                   // keep the first N parameterised layers fixed
  std::string preprocess;           // image data: mnist | emnist; empty: --init-from's, else mnist
  bool model_given = false;         // --model was given (else --init-from's architecture)
  std::string precision = "auto";   // auto | f32 | bf16: which convolutions compute in bf16 (bf16.hpp)
  int prefetch = kAutoPrefetch;     // batches prepared ahead of the step; 0: right before it
  std::string allreduce = "auto";   // auto | once | overlap: how the ranks sum gradients (docs/distributed.md)
  int64_t checkpoint_steps = 0;     // also save every N steps (0: only at epoch ends) ...
  double checkpoint_minutes = 0;    // ... or every M minutes of training
  cli::ProgressMode progress = cli::ProgressMode::automatic;
};

Options parse_options(int argc, char** argv);

// A usage error found while the run starts (--valid larger than the data, an unfinished run in
// --out): exits 2 like the parser's own errors.
[[noreturn]] void usage_error(const std::string& message);

}  // namespace inkwell::train_app
