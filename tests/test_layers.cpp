// Every layer (and a few stacks of them) against the naive reference net and finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "gradient_check.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/nn/dropout.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/nn/max_pool.hpp"
#include "inkwell/check/reference_net.hpp"

namespace inkwell {
namespace {

using testing::check_gradient;
using check::ReferenceNet;
using check::to_ref;

struct Case {
  std::string spec;
  Dims input;  // (C, H, W)
  int64_t batch;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.spec << " on " << c.batch << "x" << to_string(c.input); }

constexpr uint64_t kNoiseKey = 42;  // dropout's mask

class LayerTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const Case& c = GetParam();
    model = std::make_unique<Model>(Architecture{c.spec, c.input}, c.batch, Mode::train, /*need_diff_src=*/true);
    model->init_params(7);
    model->set_noise_key(kNoiseKey);
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

// Relative error 1e-3, or absolute 1e-5 near zero: a conv bias before batch norm has a true
// gradient of exactly 0, which f32 reaches only to a few 1e-6.
void expect_near_all(const std::string& what, const float* got, const std::vector<double>& want) {
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double err = std::abs(got[i] - want[i]) / (1e-2 + std::abs(want[i]));
    if (err > worst) worst = err, worst_i = i;
  }
  EXPECT_LT(worst, 1e-3) << what << "[" << worst_i << "]: got " << got[worst_i] << ", reference " << want[worst_i];
}

TEST_P(LayerTest, MatchesNaiveReference) {
  model->forward();
  backward();
  ReferenceNet ref(GetParam().spec, model->state(), kNoiseKey);
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
  ReferenceNet ref(c.spec, model->state(), kNoiseKey);
  auto src = to_ref(model->src_dims(), model->src());
  const auto diff = to_ref(model->dst_dims(), diff_dst.data());
  ref.forward(src);
  const auto diff_src = ref.backward(diff);
  const auto grads = ref.grads();
  auto params = model->state();
  auto loss = [&] {
    std::vector<NamedTensor> p = params;
    ReferenceNet net(c.spec, p, kNoiseKey);
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
  for (size_t p = 0; p < grads.size(); ++p) {  // the trainable ones; buffers follow in params
    std::vector<double> values(params[p].data.begin(), params[p].data.end());
    check(params[p].name, values, grads[p], [&] {
      ReferenceNet net(c.spec, params, kNoiseKey);
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
                      Case{"avgpool2", {3, 6, 6}, 2},
                      Case{"avgpool3s2", {5, 7, 7}, 1},         // overlapping windows, a row and column left over
                      Case{"conv8k3p1-relu-avgpool2", {3, 7, 7}, 2},    // the conv does its ReLU backward itself
                      Case{"conv20k3p1-relu-avgpool2-fc5", {2, 8, 8}, 2},  // 2 channel blocks, then an fc
                      Case{"conv8k3p1-relu-maxpool2", {3, 7, 7}, 2},    // pool does the ReLU backward; 7 is not tiled
                      Case{"conv20k3p1-relu-maxpool3s2", {2, 9, 9}, 2}, // same, overlapping windows, 2 channel blocks
                      Case{"fc7", {3, 4, 4}, 2},                // 4-D src
                      Case{"fc9-relu-fc4", {2, 3, 3}, 3},       // hidden layer, 2-D src
                      Case{"conv6k3p1-bn", {3, 6, 6}, 2},       // bn on a blocked layout
                      Case{"conv12k3p1-bn-relu-maxpool2", {2, 8, 8}, 3},  // fused bn+relu (workspace), 2 blocks
                      Case{"bn-relu", {5, 4, 3}, 2},            // bn first, plain layout, odd channels
                      Case{"fc12-bn-relu-dropout30-fc5", {2, 3, 3}, 4},  // 1-D bn, dropout between fcs
                      Case{"dropout40", {3, 4, 4}, 2},          // dropout alone
                      Case{"conv16k5p2-relu-maxpool2-conv32k5p2-relu-maxpool2-fc10", {1, 28, 28}, 2}));  // seed

// Running statistics move 10% of the way to the batch's (variance unbiased, as PyTorch's), and
// an inference model normalises with them, whatever the batch holds.
TEST(BatchNormTest, RunningStatisticsServeInference) {
  const Architecture arch{"bn", {2, 3, 4}};
  const int64_t n = 3, spatial = 12, channels = 2;
  Model train(arch, n, Mode::train);
  train.init_params(1);
  Rng rng(9);
  for (int64_t i = 0; i < element_count(train.src_dims()); ++i) train.src()[i] = static_cast<float>(rng.uniform(1, 4));
  train.forward();
  train.forward();  // twice: the statistics move twice
  const auto state = train.state();
  ASSERT_EQ(state.size(), 4u);
  EXPECT_EQ(state[2].name, "bn1.running_mean");
  EXPECT_EQ(state[3].name, "bn1.running_var");
  for (int64_t c = 0; c < channels; ++c) {
    double mean = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < spatial; ++k) mean += train.src()[(i * channels + c) * spatial + k];
    mean /= n * spatial;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < spatial; ++k) sq += std::pow(train.src()[(i * channels + c) * spatial + k] - mean, 2);
    const double unbiased = sq / (n * spatial - 1);
    EXPECT_NEAR(state[2].data[c], mean * (1 - 0.9 * 0.9), 1e-5);
    EXPECT_NEAR(state[3].data[c], 0.81 + unbiased * (1 - 0.81), 1e-5);
  }
  Model infer(arch, 1, Mode::infer);
  infer.load_state(state);
  for (int64_t i = 0; i < element_count(infer.src_dims()); ++i) infer.src()[i] = static_cast<float>(rng.uniform(-2, 6));
  infer.forward();
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t k = 0; k < spatial; ++k) {
      const int64_t i = c * spatial + k;
      const double want = (infer.src()[i] - state[2].data[c]) / std::sqrt(state[3].data[c] + 1e-5);
      EXPECT_NEAR(infer.dst()[i], want, 1e-4) << "channel " << c;
    }
}

// In inference an inner product takes a dense 4-D input as the 2-D rows it is in memory: nchw
// (the model's own input) as it is, nhwc (after a conv that chose it: AVX-512's f32 convs) with
// its weights permuted to (OC, H, W, C). Either way, and with a blocked input (AVX2's convs) taken
// as before, the outputs are the reference net's.
TEST(InnerProductTest, InferenceOnAFlattenedInputMatchesTheReference) {
  const std::pair<const char*, Dims> cases[] = {{"fc7", {3, 5, 4}},
                                                {"conv16k3p1-relu-maxpool2-fc5", {2, 8, 6}},
                                                {"conv8k5p2-relu-maxpool2-conv16k5p2-relu-maxpool2-fc10", {1, 28, 28}}};
  for (const auto& [spec, input] : cases)
    for (const int64_t batch : {1, 5, 64}) {
      Model m(Architecture{spec, input}, batch, Mode::infer);
      m.init_params(3);
      Rng rng(8);
      for (int64_t i = 0; i < element_count(m.src_dims()); ++i) m.src()[i] = static_cast<float>(rng.uniform(-1, 2));
      m.forward();
      ReferenceNet ref(spec, m.state());
      const auto want = ref.forward(to_ref(m.src_dims(), m.src()));
      for (size_t i = 0; i < want.data.size(); ++i)
        ASSERT_NEAR(m.dst()[i], want.data[i], 1e-4 * (1 + std::abs(want.data[i]))) << spec << ", batch " << batch << ", " << i;
    }
}

// Dropout only acts in training: an inference model is the net without it.
TEST(DropoutTest, InferenceIsTheIdentity) {
  Model with(Architecture{"fc6-dropout50-fc3", {2, 2, 2}}, 2, Mode::infer);
  with.init_params(4);
  Rng rng(2);
  for (int64_t i = 0; i < element_count(with.src_dims()); ++i) with.src()[i] = static_cast<float>(rng.uniform(-1, 1));
  with.forward();
  ReferenceNet ref("fc6-fc3", with.state());
  const auto want = ref.forward(to_ref(with.src_dims(), with.src()));
  for (size_t i = 0; i < want.data.size(); ++i) EXPECT_NEAR(with.dst()[i], want.data[i], 1e-5);
}

// Different keys drop different elements, about P% of them, and the same key the same ones.
TEST(DropoutTest, MaskFollowsTheKey) {
  int dropped = 0, differ = 0;
  for (int64_t i = 0; i < 100000; ++i) {
    dropped += !dropout_keeps(7, i, 30);
    differ += dropout_keeps(7, i, 30) != dropout_keeps(8, i, 30);
    ASSERT_EQ(dropout_keeps(7, i, 30), dropout_keeps(7, i, 30));
  }
  EXPECT_NEAR(dropped / 1e5, 0.30, 0.01);
  EXPECT_NEAR(differ / 1e5, 2 * 0.3 * 0.7, 0.01);
}

// The max pool kernels take channel-blocked (aBcd8b, aBcd16b) and nhwc src without a reorder
// (oneDNN 3.x's AVX2 convolutions give nhwc, the others blocked layouts), and every layout gives
// the same dst and diff_src: the layer test above checks the blocked ones against the reference.
TEST(MaxPoolTest, EveryLayoutTheKernelsTakeGivesTheSameResult) {
  using tag = dnnl::memory::format_tag;
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const Dims src_dims{2, 16, 6, 6}, dst_dims{2, 16, 3, 3};
  auto plain = [&](const Dims& dims, double lo, uint64_t seed) {
    std::vector<float> v(element_count(dims));
    Rng rng(seed);
    for (float& x : v) x = std::max(0.f, static_cast<float>(rng.uniform(lo, 1)));  // post-ReLU: ties at 0
    return v;
  };
  const std::vector<float> x = plain(src_dims, -1, 1), dy = plain(dst_dims, 0.1, 2);
  auto reorder = [&](const dnnl::memory& from, const dnnl::memory& to) {
    dnnl::reorder(from, to).execute(stream, const_cast<dnnl::memory&>(from), const_cast<dnnl::memory&>(to));
    stream.wait();
  };
  auto in_layout = [&](const std::vector<float>& v, const Dims& dims, const dnnl::memory::desc& desc) {
    dnnl::memory from(plain_desc(dims), engine, const_cast<float*>(v.data())), to(desc, engine);
    reorder(from, to);
    return to;
  };
  auto to_plain = [&](const dnnl::memory& m, const Dims& dims) {
    std::vector<float> v(element_count(dims));
    reorder(m, dnnl::memory(plain_desc(dims), engine, v.data()));
    return v;
  };
  std::vector<float> want_y, want_dx;
  for (const tag layout : {tag::aBcd8b, tag::aBcd16b, tag::acdb}) {
    ParamArena params(engine);
    const uint64_t key = 0;
    BuildContext ctx(engine, true, 2, params, &key);
    MaxPool pool("pool", 2, 2, /*after_relu=*/true);
    const dnnl::memory src = in_layout(x, src_dims, dnnl::memory::desc(src_dims, dnnl::memory::data_type::f32, layout));
    const dnnl::memory dst = pool.build_forward(ctx, src);
    EXPECT_EQ(dst.get_desc(), dnnl::memory::desc(dst_dims, dnnl::memory::data_type::f32, layout));
    const dnnl::memory diff_src = pool.build_backward(ctx, in_layout(dy, dst_dims, dst.get_desc()), true);
    for (const OpList* ops : {&ctx.forward, &ctx.backward})
      for (const Op& op : *ops) {
        ASSERT_TRUE(op.kernel) << "layout " << static_cast<int>(layout) << " needed " << op.name;
        op.kernel();
      }
    const auto y = to_plain(dst, dst_dims), dx = to_plain(diff_src, src_dims);
    if (want_y.empty()) want_y = y, want_dx = dx;
    EXPECT_EQ(y, want_y) << "layout " << static_cast<int>(layout);
    EXPECT_EQ(dx, want_dx) << "layout " << static_cast<int>(layout);
  }
}

// int8 inference pools u8 activations: the u8 kernel on the layouts int8 convolutions give
// (nhwc, blocked), oneDNN's int8 pooling on the rest (nchw here): all equal the naive max, for
// tiling and overlapping windows.
TEST(MaxPoolTest, U8PoolingEqualsTheNaiveMaxInEveryLayout) {
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  for (const auto& [k, stride] : {std::pair<int64_t, int64_t>{2, 2}, {3, 2}}) {
    const Dims src_dims{3, 16, 7, 9};
    const int64_t oh = (7 - k) / stride + 1, ow = (9 - k) / stride + 1;
    const Dims dst_dims{3, 16, oh, ow};
    std::vector<uint8_t> x(element_count(src_dims));
    Rng rng(k);
    for (uint8_t& v : x) v = static_cast<uint8_t>(rng.below(256));
    std::vector<uint8_t> want(element_count(dst_dims));
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t c = 0; c < 16; ++c)
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j) {
            uint8_t m = 0;
            for (int64_t a = 0; a < k; ++a)
              for (int64_t b = 0; b < k; ++b) m = std::max(m, x[((n * 16 + c) * 7 + i * stride + a) * 9 + j * stride + b]);
            want[((n * 16 + c) * oh + i) * ow + j] = m;
          }
    for (const tag layout : {tag::acdb, tag::aBcd8b, tag::aBcd16b, tag::abcd}) {
      ParamArena params(engine);
      const uint64_t key = 0;
      BuildContext ctx(engine, false, 2, params, &key);
      MaxPool pool("pool", k, stride);
      dnnl::memory plain_src({src_dims, dt::u8, tag::abcd}, engine, x.data());
      dnnl::memory src({src_dims, dt::u8, layout}, engine);
      dnnl::reorder(plain_src, src).execute(stream, plain_src, src);
      stream.wait();
      dnnl::memory dst = pool.build_forward(ctx, src);
      for (const Op& op : ctx.forward) {
        EXPECT_EQ(op.kernel != nullptr, layout != tag::abcd) << op.impl;  // nchw: oneDNN's pooling
        if (op.kernel) op.kernel();
        else op.primitive.execute(stream, op.args);
      }
      stream.wait();
      std::vector<uint8_t> got(want.size());
      dnnl::memory plain_dst({dst_dims, dt::u8, tag::abcd}, engine, got.data());
      dnnl::reorder(dst, plain_dst).execute(stream, dst, plain_dst);
      stream.wait();
      EXPECT_EQ(got, want) << "layout " << static_cast<int>(layout) << ", window " << k << " stride " << stride;
    }
  }
}

}  // namespace
}  // namespace inkwell
