#include "inkwell/nn/calibration.hpp"

#include <algorithm>
#include <cmath>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/nn/reorder.hpp"

namespace inkwell {

using dnnl::memory;

std::vector<float> weight_scales(const NamedTensor& weights) {
  const int64_t channels = weights.dims.at(0);
  const int64_t per = element_count(weights.dims) / channels;
  std::vector<float> scales(channels);
  for (int64_t c = 0; c < channels; ++c) {
    float m = 0;
    for (int64_t i = 0; i < per; ++i) m = std::max(m, std::abs(weights.data[c * per + i]));
    scales[c] = (m > 0 ? m : 1.f) / 127.f;
  }
  return scales;
}

namespace {

// Values seen at one layer's input: the extremes, and a bounded sample for percentiles.
struct Observed {
  float lo = 0, hi = 0;
  std::vector<float> sample;
};
constexpr size_t kMaxSample = size_t{1} << 22;  // per layer: 16 MiB

float quantile(std::vector<float>& v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

Calibration calibrate(const Architecture& arch, const std::vector<NamedTensor>& state, std::span<const float> images,
                       int64_t count, const CalibrationOptions& options) {
  if (count < 1) throw error("calibration needs at least one image");
  const int64_t image_size = element_count(arch.input);
  if (static_cast<int64_t>(images.size()) != count * image_size)
    throw error("calibration: ", images.size(), " values for ", count, " images of ", image_size);
  const int64_t batch = std::min(options.batch, count);
  Model model(arch, batch, Mode::infer);
  model.load_state(state);

  const auto inputs = model.layer_inputs();
  std::vector<Observed> seen(inputs.size());
  if (inputs.empty()) throw error("calibration: '", arch.spec, "' has no conv or fc layer");
  const dnnl::engine engine = inputs.front().second.get_engine();
  // Each layer's input in plain layout (blocked layouts hold padding that is not data).
  std::vector<memory> plain;
  for (const auto& [name, m] : inputs) plain.emplace_back(plain_desc(compat::dims(m.get_desc())), engine);
  const int64_t total_values = [&] {
    int64_t n = 0;
    for (const memory& p : plain) n = std::max(n, static_cast<int64_t>(p.get_desc().get_size() / sizeof(float)) / batch * count);
    return n;
  }();
  const int64_t stride = std::max<int64_t>(1, total_values / static_cast<int64_t>(kMaxSample));

  for (int64_t first = 0; first < count; first += batch) {
    const int64_t rows = std::min(batch, count - first);
    std::fill_n(model.src(), batch * image_size, 0.f);
    std::copy_n(images.data() + first * image_size, rows * image_size, model.src());
    model.forward();
    for (size_t l = 0; l < inputs.size(); ++l) {
      reorder_now(inputs[l].second, plain[l]);
      const int64_t per_row = static_cast<int64_t>(plain[l].get_desc().get_size() / sizeof(float)) / batch;
      const float* x = static_cast<const float*>(plain[l].get_data_handle());
      Observed& o = seen[l];
      for (int64_t i = 0; i < rows * per_row; ++i) {
        o.lo = std::min(o.lo, x[i]);
        o.hi = std::max(o.hi, x[i]);
        if (i % stride == 0 && o.sample.size() < kMaxSample) o.sample.push_back(x[i]);
      }
    }
  }

  Calibration q;
  for (size_t l = 0; l < inputs.size(); ++l) {
    const std::string& name = inputs[l].first;
    Observed& o = seen[l];
    float lo = o.lo, hi = o.hi;
    if (options.method == CalibrationOptions::Method::percentile) {
      const double p = options.percentile / 100;
      hi = quantile(o.sample, p);
      lo = o.lo < 0 ? std::min(0.f, quantile(o.sample, 1 - p)) : 0.f;
    }
    if (hi <= 0) hi = o.hi > 0 ? o.hi : 1.f;  // a layer that saw nothing positive still gets a range
    const auto w = std::find_if(state.begin(), state.end(), [&](const NamedTensor& t) { return t.name == name + ".weights"; });
    if (w == state.end()) throw error("calibration: the model has no ", name, ".weights");
    q.push_back({name, lo, hi, weight_scales(*w)});
  }
  return q;
}

}  // namespace inkwell
