#include "inkwell/check/reference_net.hpp"

#include <cmath>
#include <stdexcept>

#include "inkwell/nn/batch_norm.hpp"
#include "inkwell/nn/dropout.hpp"

namespace inkwell::check {

namespace {
// What dropout multiplies element i by: 0, or 1 / (1 - P%) for the elements it keeps.
double dropout_factor(uint64_t key, const LayerSpec& s, size_t i) {
  return dropout_keeps(key, static_cast<int64_t>(i), static_cast<int>(s.out)) ? 100.0 / (100.0 - s.out) : 0.0;
}
}  // namespace

RefTensor to_ref(const Dims& dims, const float* data) {
  return {dims, std::vector<double>(data, data + element_count(dims))};
}

ReferenceNet::ReferenceNet(const std::string& spec, const std::vector<NamedTensor>& state, uint64_t noise_key)
    : noise_key_(noise_key) {
  for (const NamedTensor& t : state) {
    if (t.name.find(".running_") != std::string::npos) continue;
    params_.emplace_back(t.data.begin(), t.data.end());
    grads_.emplace_back(t.data.size(), 0.0);
  }
  int next = 0;
  for (const LayerSpec& s : parse_spec(spec)) {
    Step step{s, -1, {}, {}, {}, {}};
    if (s.kind == LayerSpec::Kind::conv || s.kind == LayerSpec::Kind::fc || s.kind == LayerSpec::Kind::bn) {
      step.weights = next;
      next += 2;
    }
    steps_.push_back(step);
  }
  if (next != static_cast<int>(params_.size())) throw std::runtime_error("parameter count mismatch");
}

RefTensor ReferenceNet::forward(const RefTensor& input) {
  RefTensor x = input;
  for (Step& st : steps_) {
    st.src = x;
    const LayerSpec& s = st.spec;
    const Dims& d = x.dims;
    RefTensor y;
    if (s.kind == LayerSpec::Kind::relu) {
      y = x;
      for (double& v : y.data) v = v > 0 ? v : 0;
    } else if (s.kind == LayerSpec::Kind::dropout) {
      y = x;
      for (size_t i = 0; i < y.data.size(); ++i)
        y.data[i] *= dropout_factor(noise_key_, s, i);
    } else if (s.kind == LayerSpec::Kind::bn) {
      // Over (N, H, W) for each channel, with the batch's mean and biased variance.
      const int64_t n = d[0], ch = d[1], spatial = element_count(d) / (n * ch), m = n * spatial;
      const auto& scale = params_[st.weights];
      const auto& shift = params_[st.weights + 1];
      y = {d, std::vector<double>(x.data.size())};
      st.xhat.assign(x.data.size(), 0.0);
      st.inv_std.assign(ch, 0.0);
      for (int64_t c = 0; c < ch; ++c) {
        auto at = [&](int64_t i, int64_t k) { return (i * ch + c) * spatial + k; };
        double mean = 0, var = 0;
        for (int64_t i = 0; i < n; ++i)
          for (int64_t k = 0; k < spatial; ++k) mean += x.data[at(i, k)];
        mean /= m;
        for (int64_t i = 0; i < n; ++i)
          for (int64_t k = 0; k < spatial; ++k) var += (x.data[at(i, k)] - mean) * (x.data[at(i, k)] - mean);
        var /= m;
        st.inv_std[c] = 1.0 / std::sqrt(var + BatchNorm::kEpsilon);
        for (int64_t i = 0; i < n; ++i)
          for (int64_t k = 0; k < spatial; ++k) {
            st.xhat[at(i, k)] = (x.data[at(i, k)] - mean) * st.inv_std[c];
            y.data[at(i, k)] = scale[c] * st.xhat[at(i, k)] + shift[c];
          }
      }
    } else if (s.kind == LayerSpec::Kind::conv) {
      const int64_t n = d[0], ic = d[1], h = d[2], w = d[3], oc = s.out, k = s.kernel, p = s.pad, str = s.stride;
      const int64_t oh = (h + 2 * p - k) / str + 1, ow = (w + 2 * p - k) / str + 1;
      const auto& wt = params_[st.weights];
      const auto& b = params_[st.weights + 1];
      y = {{n, oc, oh, ow}, std::vector<double>(n * oc * oh * ow)};
      for (int64_t i = 0; i < n; ++i)
        for (int64_t o = 0; o < oc; ++o)
          for (int64_t r = 0; r < oh; ++r)
            for (int64_t c = 0; c < ow; ++c) {
              double acc = b[o];
              for (int64_t ci = 0; ci < ic; ++ci)
                for (int64_t kr = 0; kr < k; ++kr)
                  for (int64_t kc = 0; kc < k; ++kc) {
                    const int64_t hr = r * str - p + kr, wc = c * str - p + kc;
                    if (hr < 0 || hr >= h || wc < 0 || wc >= w) continue;
                    acc += wt[((o * ic + ci) * k + kr) * k + kc] * x.data[((i * ic + ci) * h + hr) * w + wc];
                  }
              y.data[((i * oc + o) * oh + r) * ow + c] = acc;
            }
    } else if (s.kind == LayerSpec::Kind::maxpool || s.kind == LayerSpec::Kind::avgpool) {
      const bool average = s.kind == LayerSpec::Kind::avgpool;
      const int64_t n = d[0], ch = d[1], h = d[2], w = d[3], k = s.kernel, str = s.stride;
      const int64_t oh = (h - k) / str + 1, ow = (w - k) / str + 1;
      y = {{n, ch, oh, ow}, std::vector<double>(n * ch * oh * ow)};
      for (int64_t i = 0; i < n * ch; ++i)
        for (int64_t r = 0; r < oh; ++r)
          for (int64_t c = 0; c < ow; ++c) {
            double m = average ? 0 : -1e300;  // the window's sum, or its max
            for (int64_t kr = 0; kr < k; ++kr)
              for (int64_t kc = 0; kc < k; ++kc) {
                const double v = x.data[(i * h + r * str + kr) * w + c * str + kc];
                m = average ? m + v : std::max(m, v);
              }
            y.data[(i * oh + r) * ow + c] = average ? m / static_cast<double>(k * k) : m;
          }
    } else {  // fc over the flattened (C, H, W)
      const int64_t n = d[0], f = element_count(d) / n, oc = s.out;
      const auto& wt = params_[st.weights];
      const auto& b = params_[st.weights + 1];
      y = {{n, oc}, std::vector<double>(n * oc)};
      for (int64_t i = 0; i < n; ++i)
        for (int64_t o = 0; o < oc; ++o) {
          double acc = b[o];
          for (int64_t j = 0; j < f; ++j) acc += wt[o * f + j] * x.data[i * f + j];
          y.data[i * oc + o] = acc;
        }
    }
    st.dst = y;
    x = std::move(y);
  }
  return x;
}

RefTensor ReferenceNet::backward(const RefTensor& diff_dst) {
  RefTensor dy = diff_dst;
  for (size_t idx = steps_.size(); idx-- > 0;) {
    const Step& st = steps_[idx];
    const LayerSpec& s = st.spec;
    const RefTensor& x = st.src;
    const Dims& d = x.dims;
    RefTensor dx{d, std::vector<double>(x.data.size(), 0.0)};
    if (s.kind == LayerSpec::Kind::relu) {
      for (size_t i = 0; i < dx.data.size(); ++i) dx.data[i] = st.dst.data[i] > 0 ? dy.data[i] : 0;
    } else if (s.kind == LayerSpec::Kind::dropout) {
      for (size_t i = 0; i < dx.data.size(); ++i)
        dx.data[i] = dy.data[i] * dropout_factor(noise_key_, s, i);
    } else if (s.kind == LayerSpec::Kind::bn) {
      // dx = inv_std / M * (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)), dxhat = dy * scale.
      const int64_t n = d[0], ch = d[1], spatial = element_count(d) / (n * ch), m = n * spatial;
      const auto& scale = params_[st.weights];
      auto& dscale = grads_[st.weights];
      auto& dshift = grads_[st.weights + 1];
      for (int64_t c = 0; c < ch; ++c) {
        auto at = [&](int64_t i, int64_t k) { return (i * ch + c) * spatial + k; };
        double sum_dy = 0, sum_dy_xhat = 0;
        for (int64_t i = 0; i < n; ++i)
          for (int64_t k = 0; k < spatial; ++k) {
            sum_dy += dy.data[at(i, k)];
            sum_dy_xhat += dy.data[at(i, k)] * st.xhat[at(i, k)];
          }
        dscale[c] = sum_dy_xhat;
        dshift[c] = sum_dy;
        for (int64_t i = 0; i < n; ++i)
          for (int64_t k = 0; k < spatial; ++k)
            dx.data[at(i, k)] = scale[c] * st.inv_std[c] / m *
                                (m * dy.data[at(i, k)] - sum_dy - st.xhat[at(i, k)] * sum_dy_xhat);
      }
    } else if (s.kind == LayerSpec::Kind::conv) {
      const int64_t n = d[0], ic = d[1], h = d[2], w = d[3], oc = s.out, k = s.kernel, p = s.pad, str = s.stride;
      const int64_t oh = st.dst.dims[2], ow = st.dst.dims[3];
      const auto& wt = params_[st.weights];
      auto& dw = grads_[st.weights];
      auto& db = grads_[st.weights + 1];
      std::fill(dw.begin(), dw.end(), 0.0);
      std::fill(db.begin(), db.end(), 0.0);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t o = 0; o < oc; ++o)
          for (int64_t r = 0; r < oh; ++r)
            for (int64_t c = 0; c < ow; ++c) {
              const double g = dy.data[((i * oc + o) * oh + r) * ow + c];
              db[o] += g;
              for (int64_t ci = 0; ci < ic; ++ci)
                for (int64_t kr = 0; kr < k; ++kr)
                  for (int64_t kc = 0; kc < k; ++kc) {
                    const int64_t hr = r * str - p + kr, wc = c * str - p + kc;
                    if (hr < 0 || hr >= h || wc < 0 || wc >= w) continue;
                    const int64_t xi = ((i * ic + ci) * h + hr) * w + wc, wi = ((o * ic + ci) * k + kr) * k + kc;
                    dw[wi] += g * x.data[xi];
                    dx.data[xi] += g * wt[wi];
                  }
            }
    } else if (s.kind == LayerSpec::Kind::maxpool || s.kind == LayerSpec::Kind::avgpool) {
      // Max: each window's gradient to its first maximum (row-major); average: spread evenly.
      const bool average = s.kind == LayerSpec::Kind::avgpool;
      const int64_t n = d[0], ch = d[1], h = d[2], w = d[3], k = s.kernel, str = s.stride;
      const int64_t oh = st.dst.dims[2], ow = st.dst.dims[3];
      for (int64_t i = 0; i < n * ch; ++i)
        for (int64_t r = 0; r < oh; ++r)
          for (int64_t c = 0; c < ow; ++c) {
            const double g = dy.data[(i * oh + r) * ow + c];
            int64_t best = -1;
            for (int64_t kr = 0; kr < k; ++kr)
              for (int64_t kc = 0; kc < k; ++kc) {
                const int64_t xi = (i * h + r * str + kr) * w + c * str + kc;
                if (average) dx.data[xi] += g / static_cast<double>(k * k);
                else if (best < 0 || x.data[xi] > x.data[best]) best = xi;
              }
            if (!average) dx.data[best] += g;
          }
    } else {
      const int64_t n = d[0], f = element_count(d) / n, oc = s.out;
      const auto& wt = params_[st.weights];
      auto& dw = grads_[st.weights];
      auto& db = grads_[st.weights + 1];
      std::fill(dw.begin(), dw.end(), 0.0);
      std::fill(db.begin(), db.end(), 0.0);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t o = 0; o < oc; ++o) {
          const double g = dy.data[i * oc + o];
          db[o] += g;
          for (int64_t j = 0; j < f; ++j) {
            dw[o * f + j] += g * x.data[i * f + j];
            dx.data[i * f + j] += g * wt[o * f + j];
          }
        }
    }
    dy = std::move(dx);
  }
  return dy;
}

}  // namespace inkwell::check
