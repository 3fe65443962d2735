// A preset's training recipe: the settings `inkwell-train --model NAME` uses unless flags say
// otherwise. "seed" and "fast" follow the PyTorch notebook (Adam 1e-3, L2 1e-4, batch 64, 5
// epochs; cosine instead of its constant rate, docs/decisions.md); "best" is tuned for accuracy
// (docs/decisions.md has the runs behind it).
#pragma once

#include <string>

namespace inkwell {

struct Recipe {
  int epochs = 5;
  int64_t batch = 64;
  double lr = 1e-3;
  double weight_decay = 1e-4;
  std::string schedule = "cosine";
  bool augment_handwriting = false;  // --augment, for handwriting (not for Fashion-MNIST's clothes)
};

// The recipe of a preset name; the notebook's for "seed", "fast" and any spec string.
Recipe preset_recipe(const std::string& name);

}  // namespace inkwell
