// Dropout: in training, each element is zeroed with probability P% and the rest scaled by
// 1 / (1 - P%); in inference it is the identity (no op at all).
//   forward:  src (any shape) -> dst (same shape, plain layout)
//   backward: diff_dst -> diff_src = diff_dst * mask / (1 - P%)
// The mask of a step is a function of the model's noise key (Model::set_noise_key) and the plain
// element index (dropout_keeps), so a run is reproducible with any thread count and on resume.
#pragma once

#include <cstdint>
#include <vector>

#include "inkwell/nn/layer.hpp"

namespace inkwell {

// Whether element `index` survives under `key` with `percent` dropped.
bool dropout_keeps(uint64_t key, int64_t index, int percent);

class Dropout : public Layer {
 public:
  Dropout(std::string name, int percent) : Layer(std::move(name)), percent_(percent) {}
  dnnl::memory build_forward(BuildContext& ctx, const dnnl::memory& src) override;
  dnnl::memory build_backward(BuildContext& ctx, const dnnl::memory& diff_dst, bool need_diff_src) override;

 private:
  int percent_;
  dnnl::memory dst_;
  std::vector<float> mask_;  // 0 or 1 / (1 - P%) per element, set by forward for backward
};

}  // namespace inkwell
