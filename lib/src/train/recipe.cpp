#include "inkwell/train/recipe.hpp"

namespace inkwell {

Recipe preset_recipe(const std::string& name) {
  if (name == "best") return {.epochs = 15, .batch = 128, .lr = 3e-3, .weight_decay = 1e-4, .schedule = "onecycle", .augment_handwriting = true};
  return {};
}

}  // namespace inkwell
