// A share of the process's file descriptors that one component may hold open at once: a quarter
// of RLIMIT_NOFILE's soft limit (read when the share is made), at most 256. The walker's open
// directories (walk.hpp) and the file readers' opens in flight (file_batch_reader.hpp) have one
// share each, so together they leave at least half of the limit to everything else, and a run
// with `ulimit -n 40` still opens every file.
#pragma once

#include <atomic>

namespace inkwell {

class DescriptorShare {
 public:
  DescriptorShare();
  // Takes up to `wanted` descriptors of the share (0 when it is used up); give them back after.
  int take(int wanted);
  void give(int count) { held_ -= count; }

 private:
  const int size_;
  std::atomic<int> held_{0};
};

}  // namespace inkwell
