// --resume's plan from any checkpoint metadata (saved_run.hpp): "key=value" lines, then the
// training images of the data at hand. Property: a refusal (inkwell::Error) or a run whose
// resume is bounded: within its epochs, its step within the data's epoch, its counts in range,
// and the steps left to train non-negative and finite.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "inkwell/core/error.hpp"
#include "inkwell/train/saved_run.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint32_t images;
  std::memcpy(&images, data, sizeof images);
  const std::string text(reinterpret_cast<const char*>(data) + 4, size - 4);
  std::map<std::string, std::string> meta;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    const size_t eq = line.find('=');
    if (eq != std::string::npos) meta[line.substr(0, eq)] = line.substr(eq + 1);
    at = end + 1;
  }
  try {
    const inkwell::SavedRun run = inkwell::read_saved_run(meta, "fuzz");
    inkwell::check_saved_run_fits_data(run, "fuzz", images);
    const int64_t steps = run.steps_per_epoch(images);
    const inkwell::EpochState& e = run.partial;
    if (run.epoch < 1 || run.epoch > run.epochs + 1 || e.steps_done < 0 || e.steps_done > steps) std::abort();
    if (e.images < 0 || e.images > e.steps_done * run.batch || e.correct < 0 || e.correct > e.images) std::abort();
    if (run.ranks < 1 || run.batch < 1 || !(run.lr > 0) || run.best_epoch >= run.epoch) std::abort();
    const int64_t left = static_cast<int64_t>(run.epochs - run.epoch + 1) * steps - e.steps_done;
    if (left < 0) std::abort();
  } catch (const inkwell::Error&) {
  }
  return 0;
}
