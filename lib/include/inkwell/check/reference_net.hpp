// A naive reference network in double precision, plain NCHW, for the tests and the self-test:
// runs any spec forward and backward with loops a reader can check by eye. Parameters come from Model::state() (same names,
// same order, plain layouts), so its results compare one-to-one with a Model's.
#pragma once

#include <vector>

#include "inkwell/nn/spec.hpp"
#include "inkwell/core/tensor.hpp"

namespace inkwell::check {

struct RefTensor {
  Dims dims;
  std::vector<double> data;
};

class ReferenceNet {
 public:
  // `state` is Model::state(): parameters, then buffers (batch norm running statistics), which
  // the reference does not use: its batch norm always normalises with the batch's statistics, as
  // in training. `noise_key` is the model's, for dropout.
  ReferenceNet(const std::string& spec, const std::vector<NamedTensor>& state, uint64_t noise_key = 0);

  // src (N, C, H, W) -> dst
  RefTensor forward(const RefTensor& src);
  // diff_dst -> diff_src; parameter gradients in grads(), in state() order and plain layout.
  RefTensor backward(const RefTensor& diff_dst);
  const std::vector<std::vector<double>>& grads() const { return grads_; }
  // Replaces parameter p's values (double precision, for finite differences).
  void set_param(size_t p, const std::vector<double>& values) { params_.at(p) = values; }

 private:
  struct Step {
    LayerSpec spec;
    int weights = -1;  // index into params_ (bias or shift = weights + 1), for conv, fc and bn
    RefTensor src, dst;
    std::vector<double> xhat, inv_std;  // bn: normalised src, per-channel 1 / sqrt(var + eps)
  };
  std::vector<Step> steps_;
  std::vector<std::vector<double>> params_, grads_;
  uint64_t noise_key_;
};

RefTensor to_ref(const Dims& dims, const float* data);

}  // namespace inkwell::check
