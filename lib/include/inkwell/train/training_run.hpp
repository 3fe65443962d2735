// A training run, whole: its settings, the data and its train/valid/test split, the model and
// optimizer, the epoch loop with the best-epoch record, the ranks' broadcast, and the files it
// keeps in its directory (model.inkw after every epoch and pause, best.inkw, metrics.csv and the
// reports). inkwell-train and the Python module drive it and print or plot what its callbacks
// hand them. A run interrupted at any step goes on with TrainingRun::resume to the same weights.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "inkwell/check/measured_plan.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/data/data_source.hpp"
#include "inkwell/dist/communicator.hpp"
#include "inkwell/model_file/model_file.hpp"
#include "inkwell/nn/bf16.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/train/metrics_log.hpp"
#include "inkwell/train/optimizer.hpp"
#include "inkwell/train/saved_run.hpp"
#include "inkwell/train/step_workers.hpp"
#include "inkwell/train/train.hpp"

namespace inkwell {

// How many training images validate: a count, or a share of the training set capped at a count.
struct ValidSize {
  double fraction = 0.1;  // used when count < 0
  int64_t count = -1;
  int64_t cap = 5000;     // of a fraction: MNIST's 60k give 5,000, as the notebook held out
  int64_t resolve(int64_t train_images) const;
};

// What a run is: saved in its model file, and taken back from there by resume. The defaults are
// the PyTorch notebook's (Adam 1e-3, L2 1e-4, batch 64, 5 epochs, 5,000 validation images) with
// a cosine schedule (docs/decisions.md).
struct RunSettings {
  std::string data = "mnist";      // data_source.hpp
  std::string model;               // preset or spec; empty: init_from's architecture, else "seed"
  std::string init_from;           // fine-tuning: start from this model's matching tensors and normalisation
  int freeze = 0;                  // ... keeping its first N parameterised layers fixed
  std::string preprocessing;       // image files: mnist | emnist; empty: init_from's, else mnist
  std::string optimizer = "adam";  // adam | adamw | sgd
  std::string schedule = "cosine"; // cosine | constant | onecycle
  std::string precision = "auto";  // auto | f32 | bf16 (bf16.hpp)
  int epochs = 5;
  int64_t batch = 64;              // the global batch: split evenly over the ranks
  double lr = 1e-3, weight_decay = 1e-4;
  double test_fraction = 1.0 / 7;  // a single image tree or manifest: its test share
  uint64_t seed = 0;               // split, shuffles, initialisation, augmentation, dropout
  ValidSize valid;
  bool augment = false, skip_bad = false;
  bool keep_best = false;          // also keep best.inkw, the epoch with the best validation accuracy
  bool test_at_end = false;        // score the test set after the last epoch only
};

// How a run is carried out: these may change when it resumes, and the results stay the same.
struct RunControls {
  std::string out = "runs/latest";  // the run's directory
  bool force = false;               // start over in an `out` that holds an unfinished run
  int threads = 0;                  // OpenMP threads; 0: the CPUs this process may use (core/cpu_budget.hpp)
  std::string plan = "auto";        // precision auto: auto | measure | rule (check/measured_plan.hpp)
  int prefetch = kAutoPrefetch;
  std::string allreduce = "auto";   // auto | once | overlap (docs/distributed.md)
  int64_t checkpoint_steps = 0;     // also save every N steps ...
  double checkpoint_minutes = 0;    // ... or every M minutes (0: at epoch ends only)
  int64_t eval_batch = 500;         // the inference model's batch for validation and test
};

// A setting that does not fit the data or another setting (--valid larger than the data, an
// unfinished run in `out`): the CLI's usage error, Python's ValueError.
class SettingsError : public Error {
 public:
  using Error::Error;
};

// Handed to on_step after every training step.
struct StepReport {
  int epoch, epochs;
  int64_t step, steps;          // steps done this epoch, steps this epoch
  double loss;                  // the epoch's running mean
  double images_per_second;     // since the epoch (or its resumed part) began; 0 at its first step
  double seconds_left_epoch, seconds_left_run;
};

// Handed to on_epoch after every epoch's validation and test.
struct EpochReport {
  int epoch, epochs;
  Metrics train, valid, test;   // valid: images 0 with no validation set; test: 0 when not scored
  bool has_valid, has_test;
  double lr;                    // the rate of the epoch's last step
  bool best;                    // the best validation accuracy so far
};

struct RunCallbacks {
  std::function<void(const StepReport&)> on_step;
  std::function<bool(const EpochReport&)> on_epoch;  // false stops the run (saved, resumable)
  // Polled after every step (after on_step). True pauses the run after the next step (the ranks
  // agree on it with that step's gradient sum) and saves it; still true then, the run stops.
  std::function<bool()> stop_requested;
};

enum class RunEnd { complete, stopped };

class TrainingRun {
 public:
  // A new run in controls.out (created). Throws SettingsError if `out` holds an unfinished run
  // (unless controls.force) or the settings do not fit the data.
  static std::unique_ptr<TrainingRun> start(RunSettings settings, RunControls controls, Communicator& comm = world());
  // The run saved in controls.out/model.inkw, with its own settings, checked (saved_run.hpp).
  static std::unique_ptr<TrainingRun> resume(RunControls controls, Communicator& comm = world());

  // A complete run (resumed) has nothing set up: only settings(), controls() and state() hold.
  // Runs the remaining epochs, saving after each one, at every checkpoint due and when stopped.
  RunEnd run(const RunCallbacks& callbacks = {});

  bool complete() const { return state_.complete(); }
  const RunSettings& settings() const { return settings_; }
  const RunControls& controls() const { return controls_; }
  const Architecture& architecture() const { return arch_; }
  const DatasetSplits& data() const { return data_; }
  int64_t train_images() const { return static_cast<int64_t>(train_idx_.size()); }
  int64_t valid_images() const { return static_cast<int64_t>(valid_idx_.size()); }
  int64_t test_images() const { return static_cast<int64_t>(test_idx_.size()); }
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  const Bf16Plan& bf16_plan() const { return bf16_; }
  const check::PlanReport& plan_report() const { return plan_report_; }  // how bf16_plan was chosen
  bool overlapped_allreduce() const { return overlap_; }
  const SavedRun& state() const { return state_; }  // the epoch under way, steps done, best epoch
  const std::vector<EpochRow>& history() const { return history_; }  // metrics.csv's rows
  const Model& model() const { return *model_; }
  std::string model_path() const;
  std::string best_path() const;
  // Said once while the run was set up. Notices (the CLI's stdout): which tensors fine-tuning
  // copied, how a resumed run's ranks changed. Warnings (stderr): bad files skipped, the bf16
  // plan's notes when bf16 was asked for, and its warnings.
  const std::vector<std::string>& notices() const { return notices_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  TrainingRun(RunSettings settings, RunControls controls, Communicator& comm, const ModelFile* saved);
  ModelFile checkpoint(bool with_optimizer) const;
  void save(bool also_best);
  bool any_rank(bool flag);

  RunSettings settings_;
  RunControls controls_;
  Communicator& comm_;
  DatasetSplits data_;
  Architecture arch_;
  Bf16Plan bf16_;
  check::PlanReport plan_report_;
  bool overlap_ = false;
  std::unique_ptr<Model> model_, eval_;
  std::unique_ptr<StepWorkers> workers_;  // one process: the steps run on micro-batches (after model_: destroyed first)
  std::unique_ptr<Optimizer> optimizer_;
  LearningRate lr_;
  int64_t steps_per_epoch_ = 0;
  Rng rng_{0};  // the split, then one shuffle an epoch
  std::vector<uint32_t> train_idx_, valid_idx_, test_idx_;
  SavedRun state_;
  std::vector<EpochRow> history_;
  std::string title_;
  std::vector<std::string> notices_, warnings_;
};

}  // namespace inkwell
