// Post-training static quantization: the input range of every conv and fc layer, measured by
// running the f32 model over calibration images, and per-output-channel weight scales
// (quantization.hpp; the method is chosen by measurement in docs/int8.md).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "inkwell/nn/quantization.hpp"
#include "inkwell/nn/spec.hpp"
#include "inkwell/core/tensor.hpp"

namespace inkwell {

struct CalibrationOptions {
  // max: the largest value seen; percentile: the `percentile`-th one (outliers clipped). For a
  // signed input (the normalised image), the low end is found the same way from below.
  enum class Method { max, percentile } method = Method::percentile;
  double percentile = 99.99;
  int64_t batch = 256;
};

// images: (count, C, H, W), normalised as the model takes them; state: the model's tensors.
Calibration calibrate(const Architecture& arch, const std::vector<NamedTensor>& state, std::span<const float> images,
                       int64_t count, const CalibrationOptions& options = {});

// Weight scales alone: per output channel, max |w| / 127 (1/127 for an all-zero channel).
std::vector<float> weight_scales(const NamedTensor& weights);

}  // namespace inkwell
