// inkwell-train's command line: the settings of a run, parsed and checked (exit 2 on any bad one).
#pragma once

#include <string>

#include "../common/progress.hpp"
#include "inkwell/train/training_run.hpp"

namespace inkwell::train_app {

// Defaults reproduce the PyTorch notebook (training_run.hpp); a preset with a recipe of its own
// (--model best) changes epochs, batch, lr, weight decay, schedule and augmentation unless they
// are given.
struct Options {
  RunSettings run;
  RunControls controls;
  bool resume = false;  // settings and state come from --resume DIR's model.inkw
  cli::ProgressMode progress = cli::ProgressMode::automatic;
};

Options parse_options(int argc, char** argv);

// A usage error found while the run starts (--valid larger than the data, an unfinished run in
// --out): exits 2 like the parser's own errors.
[[noreturn]] void usage_error(const std::string& message);

}  // namespace inkwell::train_app
