// A training run as its checkpoint saves it (model.inkw's metadata), read back for --resume.
//
// Every key is range-checked where it is read, then the keys are checked against each other
// (images counted against steps done, best epoch against the epoch reached, ...), then against
// the data the run goes on with (its steps per epoch, the optimizer's step count). A checkpoint
// that fails any of these is refused with the file and the key named: a resume either replays the
// run exactly or does not start (docs/model-format.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "inkwell/core/tensor.hpp"
#include "inkwell/nn/params.hpp"
#include "inkwell/train/optimizer.hpp"
#include "inkwell/train/train.hpp"

namespace inkwell {

struct SavedRun {
  // The recipe: what the run was started with.
  std::string data, optimizer, schedule, preprocessing, precision, init_from;
  int epochs = 0;
  int64_t batch = 0;
  double lr = 0, weight_decay = 0, test_fraction = 0;
  uint64_t seed = 0;
  int64_t valid = 0;     // validation images held out of the training set
  int64_t train_images = -1;  // training images an epoch (-1: a checkpoint written before this key was)
  bool augment = false, skip_bad = false, keep_best = false, test_at_end = false;
  int freeze = 0;
  int ranks = 1;
  // Where it stopped: the epoch under way (epochs + 1 when the run is complete), how far into it,
  // the best validation so far and the optimizer's steps over the whole run.
  int epoch = 1;
  EpochState partial;
  int best_epoch = 0;
  double best_valid_acc = -1;
  int64_t optimizer_steps = 0;

  bool complete() const { return epoch > epochs; }
  // Training steps an epoch over `train_images` images.
  int64_t steps_per_epoch(int64_t images) const { return (images + batch - 1) / batch; }
};

// The pair that writes a run into a model file's metadata and reads it back, over one list of
// keys in one order (saved_run.cpp). Doubles are written with 17 significant digits, so they read
// back exactly. optimizer_steps < 0 writes no `optimizer.steps` (best.inkw: no optimizer state).
std::map<std::string, std::string> saved_run_meta(const SavedRun& run);
// Reads and checks `meta` (from the file at `path`). Throws an Error naming the path and the key.
SavedRun read_saved_run(const std::map<std::string, std::string>& meta, const std::string& path);

// The optimizer's state as a model file stores it, by parameter name: "<param>.m" and, for Adam
// and AdamW, "<param>.v", each plain with its parameter's dims.
std::vector<NamedTensor> optimizer_state(const ParamArena& arena, const Optimizer& optimizer);
// Restores `state` into `optimizer` by name, checked: exactly the tensors the optimizer keeps, each
// with its parameter's dims and finite values (second moments non-negative). Throws an Error
// naming `path` and the tensor.
void restore_optimizer_state(const std::vector<NamedTensor>& state, const std::string& path, const ParamArena& arena,
                             Optimizer& optimizer);

// Checks a run against the data it goes on with: `train_images` an epoch after validation is held
// out. If the data changed since the run was saved, says what changed.
void check_saved_run_fits_data(const SavedRun& run, const std::string& path, int64_t train_images);

}  // namespace inkwell
