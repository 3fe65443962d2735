#include "inkwell/check/self_test.hpp"

#include <omp.h>

#include <cmath>

#include "inkwell/check/reference_net.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/nn/bf16.hpp"
#include "inkwell/nn/calibration.hpp"
#include "inkwell/nn/model.hpp"

namespace inkwell::check {
namespace {

struct Kind {
  const char* name;
  const char* spec;
  Dims input;  // (C, H, W): channel counts that pad in blocked layouts
};
constexpr int64_t kBatch = 3;
constexpr uint64_t kNoiseKey = 42;

// Tolerances: f32 against double is rounding only; bf16 keeps 8 mantissa bits; int8 adds the
// quantisation of weights and activations (about 1% on these nets). A misplaced weight or a
// wrong compensation gives errors of 0.1 to 1.
double tolerance(const std::string& precision, const std::string& direction) {
  if (precision == "f32") return direction == "forward" ? 1e-5 : 1e-4;
  if (precision == "bf16") return direction == "forward" ? 2e-2 : 5e-2;
  return 5e-2;
}

double relative_error(const std::vector<double>& got, const std::vector<double>& want) {
  double d = 0, w = 0;
  for (size_t i = 0; i < want.size(); ++i) d += (got[i] - want[i]) * (got[i] - want[i]), w += want[i] * want[i];
  return got.size() == want.size() && w > 0 ? std::sqrt(d / w) : NAN;
}

std::vector<double> widen(const float* p, int64_t n) { return std::vector<double>(p, p + n); }

// The reference's gradients for every parameter, then diff_src, as one vector; the same for a model.
std::vector<double> reference_backward(ReferenceNet& ref, const Model& m, const std::vector<float>& diff_dst,
                                       bool diff_src) {
  const RefTensor ds = ref.backward(to_ref(m.dst_dims(), diff_dst.data()));
  std::vector<double> out;
  for (const auto& g : ref.grads()) out.insert(out.end(), g.begin(), g.end());
  if (diff_src) out.insert(out.end(), ds.data.begin(), ds.data.end());
  return out;
}
std::vector<double> model_backward(Model& m, bool diff_src) {
  std::vector<double> out;
  for (const Param& p : m.params().params()) {
    const std::vector<float> g = m.params().read_plain(p, m.params().grads());
    out.insert(out.end(), g.begin(), g.end());
  }
  if (diff_src) {
    const std::vector<double> ds = widen(m.diff_src(), element_count(m.src_dims()));
    out.insert(out.end(), ds.begin(), ds.end());
  }
  return out;
}

void run_kind(const Kind& k, int threads, std::vector<SelfTestRow>& rows) {
  const Architecture arch{k.spec, k.input};
  auto row = [&](const std::string& precision, const std::string& direction, double error) {
    rows.push_back({k.name, k.spec, precision, direction, threads, error, tolerance(precision, direction)});
  };
  // f32 training model, its weights and inputs, and the reference on them.
  Model f32(arch, kBatch, Mode::train, /*need_diff_src=*/true);
  f32.init_params(7);
  f32.set_noise_key(kNoiseKey);
  Rng rng(1);
  const int64_t src_n = element_count(f32.src_dims());
  std::vector<float> src(src_n), diff_dst(element_count(f32.dst_dims()));
  for (float& v : src) v = static_cast<float>(rng.uniform(-1, 1));
  for (float& v : diff_dst) v = static_cast<float>(rng.uniform(-1, 1));
  const std::vector<NamedTensor> state = f32.state();
  ReferenceNet ref(k.spec, state, kNoiseKey);
  const std::vector<double> want_dst = ref.forward(to_ref(f32.src_dims(), src.data())).data;
  const std::vector<double> want_grads = reference_backward(ref, f32, diff_dst, true);

  auto forward = [&](Model& m) {
    std::copy(src.begin(), src.end(), m.src());
    m.forward();
    return widen(m.dst(), static_cast<int64_t>(want_dst.size()));
  };
  auto backward = [&](Model& m, bool diff_src) {
    std::copy(diff_dst.begin(), diff_dst.end(), m.diff_dst());
    m.backward();
    return model_backward(m, diff_src);
  };
  row("f32", "forward", relative_error(forward(f32), want_dst));
  row("f32", "backward", relative_error(backward(f32, true), want_grads));

  const Bf16Plan bf16_plan = plan_bf16(arch, TrainPrecision::bf16);
  if (!bf16_plan.layers.empty()) {
    Model bf16(arch, kBatch, Mode::train, bf16_plan);
    bf16.load_state(state);
    bf16.set_noise_key(kNoiseKey);
    row("bf16", "forward", relative_error(forward(bf16), want_dst));
    const std::vector<double> want_param_grads(want_grads.begin(), want_grads.end() - src_n);
    row("bf16", "backward", relative_error(backward(bf16, false), want_param_grads));
  }

  // int8: inference, calibrated on the inputs themselves. Against the reference where inference
  // computes what training does; with batch norm (running statistics) or dropout (the identity),
  // against f32 inference, itself checked above through training's forward.
  const Calibration q = calibrate(arch, state, src, kBatch);
  const Int8Plan int8_plan = plan_int8(arch, q, Precision::int8);
  if (!int8_plan.layers.empty()) {
    Model f32_infer(arch, kBatch, Mode::infer), int8(arch, kBatch, int8_plan);
    f32_infer.load_state(state);
    int8.load_state(state);
    const std::string spec = k.spec;
    const bool same_as_training = spec.find("bn") == std::string::npos && spec.find("dropout") == std::string::npos;
    row("int8", "forward", relative_error(forward(int8), same_as_training ? want_dst : forward(f32_infer)));
  }
}

}  // namespace

std::vector<SelfTestRow> self_test() {
  static const Kind kinds[] = {
      {"conv", "conv5k3p1", {3, 9, 9}},
      {"fc", "fc7", {6, 3, 3}},
      {"max pool", "conv4k3p1-relu-maxpool2-fc5", {3, 8, 8}},
      {"average pool", "conv4k3p1-relu-avgpool2-fc5", {3, 8, 8}},
      {"relu", "conv4k3p1-maxpool2-relu-fc5", {3, 6, 6}},  // a ReLU of its own (others fuse)
      {"batch norm", "conv6k3p1-bn-relu-fc5", {3, 6, 6}},
      {"dropout", "fc12-dropout30-fc5", {2, 3, 3}},
  };
  std::vector<SelfTestRow> rows;
  const int caller = omp_get_max_threads();
  for (const int threads : {1, caller}) {
    omp_set_num_threads(threads);  // oneDNN fixes its split when the primitives are made
    for (const Kind& k : kinds) run_kind(k, threads, rows);
    if (caller == 1) break;
  }
  omp_set_num_threads(caller);
  return rows;
}

}  // namespace inkwell::check
