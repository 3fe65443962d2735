// Every layer (and a few stacks of them) against the naive reference net and finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "gradient_check.hpp"
#include "inkwell/model.hpp"
#include "inkwell/rng.hpp"
#include "reference_net.hpp"

namespace inkwell {
namespace {

using testing::check_gradient;
using testing::ReferenceNet;
using testing::to_ref;

struct Case {
  std::string spec;
  Dims input;  // (C, H, W)
  int64_t batch;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.spec << " on " << c.batch << "x" << to_string(c.input); }

class LayerTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const Case& c = GetParam();
    model = std::make_unique<Model>(Architecture{c.spec, c.input}, c.batch, Mode::train, /*need_diff_src=*/true);
    model->init_params(7);
    Rng rng(1);
    for (int64_t i = 0; i < element_count(model->src_dims()); ++i) model->src()[i] = static_cast<float>(rng.uniform(-1, 1));
    diff_dst.resize(element_count(model->dst_dims()));
    for (float& v : diff_dst) v = static_cast<float>(rng.uniform(-1, 1));
  }

  // L = sum(dst * diff_dst): its gradient with respect to dst is diff_dst.
  double loss() {
    model->forward();
    double l = 0;
    for (size_t i = 0; i < diff_dst.size(); ++i) l += static_cast<double>(model->dst()[i]) * diff_dst[i];
    return l;
  }
  void backward() {
    std::copy(diff_dst.begin(), diff_dst.end(), model->diff_dst());
    model->backward();
  }

  std::unique_ptr<Model> model;
  std::vector<float> diff_dst;
};

void expect_near_all(const std::string& what, const float* got, const std::vector<double>& want) {
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double err = std::abs(got[i] - want[i]) / (1e-3 + std::abs(want[i]));
    if (err > worst) worst = err, worst_i = i;
  }
  EXPECT_LT(worst, 1e-3) << what << "[" << worst_i << "]: got " << got[worst_i] << ", reference " << want[worst_i];
}

TEST_P(LayerTest, MatchesNaiveReference) {
  model->forward();
  backward();
  ReferenceNet ref(GetParam().spec, model->state());
  const auto dst = ref.forward(to_ref(model->src_dims(), model->src()));
  ASSERT_EQ(dst.dims, model->dst_dims());
  expect_near_all("dst", model->dst(), dst.data);
  const auto diff_src = ref.backward(to_ref(model->dst_dims(), diff_dst.data()));
  expect_near_all("diff_src", model->diff_src(), diff_src.data);
  const auto& params = model->params().params();
  for (size_t p = 0; p < params.size(); ++p) {
    const auto grad = model->params().read_plain(params[p], model->params().grads());
    expect_near_all(params[p].name + " grad", grad.data(), ref.grads()[p]);
  }
}

TEST_P(LayerTest, GradientsMatchFiniteDifferences) {
  model->forward();
  backward();
  const std::vector<float> diff_src(model->diff_src(), model->diff_src() + element_count(model->src_dims()));
  Rng rng(3);
  auto report = [](const testing::GradientCheck& r, int samples) {
    EXPECT_EQ(r.failures, 0) << r.first_failure;
    // A bias feeds hundreds of ReLU units, so in f32 many of its nudges cross a kink; the
    // reference check below covers every coordinate exactly.
    EXPECT_GE(r.checked, samples / 4) << "too many samples on kinks: " << r.at_kinks;
  };
  // With respect to the input.
  report(check_gradient("diff_src", element_count(model->src_dims()), 24, rng,
                        [&](int64_t i) -> float& { return model->src()[i]; }, [&] { return loss(); },
                        [&](int64_t i) { return diff_src[i]; }),
         24);
  // With respect to each parameter, perturbed in plain layout and loaded back.
  auto state = model->state();
  const auto& params = model->params().params();
  for (size_t p = 0; p < params.size(); ++p) {
    const auto grad = model->params().read_plain(params[p], model->params().grads());
    report(check_gradient(params[p].name, static_cast<int64_t>(state[p].data.size()), 12, rng,
                          [&](int64_t i) -> float& { return state[p].data[i]; },
                          [&] { model->load_state(state); return loss(); },
                          [&](int64_t i) { return grad[i]; }),
           12);
  }
}

// The reference net's own gradients against central differences in double precision: exact
// enough (eps 1e-6) that kinks are practically never crossed, so every sample is checked. With
// MatchesNaiveReference this shows the oneDNN gradients are the true gradients.
TEST_P(LayerTest, ReferenceGradientsMatchFiniteDifferences) {
  const Case& c = GetParam();
  ReferenceNet ref(c.spec, model->state());
  auto src = to_ref(model->src_dims(), model->src());
  const auto diff = to_ref(model->dst_dims(), diff_dst.data());
  ref.forward(src);
  const auto diff_src = ref.backward(diff);
  const auto grads = ref.grads();
  auto params = model->state();
  auto loss = [&] {
    std::vector<NamedTensor> p = params;
    ReferenceNet net(c.spec, p);
    const auto dst = net.forward(src);
    double l = 0;
    for (size_t i = 0; i < dst.data.size(); ++i) l += dst.data[i] * diff.data[i];
    return l;
  };
  // The reference takes float parameters, so nudge a double copy of the input and the
  // parameters through this local loss instead of check_gradient's float& accessor.
  constexpr double eps = 1e-6;
  Rng rng(5);
  auto check = [&](const std::string& what, std::vector<double>& values, const std::vector<double>& analytic,
                   const std::function<double()>& f) {
    for (int s = 0; s < 16; ++s) {
      const auto i = rng.below(values.size());
      const double original = values[i];
      values[i] = original + eps;
      const double up = f();
      values[i] = original - eps;
      const double down = f();
      values[i] = original;
      EXPECT_NEAR((up - down) / (2 * eps), analytic[i], 1e-5 + 1e-5 * std::abs(analytic[i])) << what << "[" << i << "]";
    }
  };
  check("diff_src", src.data, diff_src.data, loss);
  for (size_t p = 0; p < params.size(); ++p) {
    std::vector<double> values(params[p].data.begin(), params[p].data.end());
    check(params[p].name, values, grads[p], [&] {
      ReferenceNet net(c.spec, params);
      net.set_param(p, values);
      const auto dst = net.forward(src);
      double l = 0;
      for (size_t i = 0; i < dst.data.size(); ++i) l += dst.data[i] * diff.data[i];
      return l;
    });
  }
}

INSTANTIATE_TEST_SUITE_P(
    Layers, LayerTest,
    ::testing::Values(Case{"conv4k3p1", {3, 6, 7}, 2},          // odd channels, non-square
                      Case{"conv5k5p2", {1, 8, 8}, 1},          // one input channel, batch 1
                      Case{"conv6k3s2", {2, 9, 9}, 3},          // stride 2, no padding
                      Case{"conv16k5p2-relu", {1, 12, 12}, 2},  // fused ReLU
                      Case{"conv3k3p1-relu", {17, 5, 5}, 2},    // more channels than a block
                      Case{"maxpool2", {3, 6, 6}, 2},
                      Case{"maxpool3s2", {5, 7, 7}, 1},         // overlapping windows
                      Case{"maxpool2-relu", {4, 6, 6}, 2},      // standalone ReLU
                      Case{"conv8k3p1-relu-maxpool2", {3, 7, 7}, 2},    // pool does the ReLU backward; 7 is not tiled
                      Case{"conv20k3p1-relu-maxpool3s2", {2, 9, 9}, 2}, // same, overlapping windows, 2 channel blocks
                      Case{"fc7", {3, 4, 4}, 2},                // 4-D src
                      Case{"fc9-relu-fc4", {2, 3, 3}, 3},       // hidden layer, 2-D src
                      Case{"conv16k5p2-relu-maxpool2-conv32k5p2-relu-maxpool2-fc10", {1, 28, 28}, 2}));  // seed

}  // namespace
}  // namespace inkwell
