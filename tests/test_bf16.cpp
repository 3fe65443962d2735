// bf16 training (bf16.hpp): the plan follows the CPU, a bf16 step computes the f32 step's
// gradients within bf16's precision on oneDNN's native kernels, and the seed model learns MNIST
// in bf16 as it does in f32. On a CPU without native bf16 (or capped below it, as the AVX2 pass
// of scripts/test does), the tests that need it say why they are skipped, and the fallback is
// tested instead.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "inkwell/core/rng.hpp"
#include "inkwell/data/dataset.hpp"
#include "inkwell/nn/bf16.hpp"
#include "inkwell/nn/loss.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/train/optimizer.hpp"
#include "inkwell/train/train.hpp"

namespace inkwell {
namespace {

const Architecture kSeed{resolve_spec("seed"), {1, 28, 28}};
const char* kNoBf16 = "this CPU (or ONEDNN_MAX_CPU_ISA) has no native bf16: nothing runs in bf16 to test";

TEST(Bf16Plan, FollowsThePrecisionAndTheCpu) {
  EXPECT_TRUE(plan_bf16(kSeed, TrainPrecision::f32).layers.empty());
  const Bf16Plan forced = plan_bf16(kSeed, TrainPrecision::bf16);
  if (cpu_has_native_bf16()) {
    EXPECT_EQ(forced.layers, (std::set<std::string>{"conv1", "conv2"}));
  } else {
    // Never an emulated path: f32, and a note saying so.
    EXPECT_TRUE(forced.layers.empty());
    ASSERT_EQ(forced.notes.size(), 1u);
    EXPECT_NE(forced.notes[0].find("no native bf16"), std::string::npos);
  }
  const Bf16Plan automatic = plan_bf16(kSeed, TrainPrecision::automatic);
  if (cpu_has_amx()) {
    // conv1 has one input channel: its bf16 kernels were slower (docs/bf16.md).
    EXPECT_EQ(automatic.layers, (std::set<std::string>{"conv2"}));
  } else {
    EXPECT_TRUE(automatic.layers.empty());
  }
}

// One step's parameter gradients, in plain layout, for a model of `plan` at the weights of
// init_params(1), on a fixed batch.
std::vector<std::vector<float>> gradients(const Bf16Plan& plan) {
  Model m(kSeed, 32, Mode::train, plan);
  m.init_params(1);
  Rng rng(2);
  for (int64_t i = 0; i < 32 * 784; ++i) m.src()[i] = static_cast<float>(rng.uniform(-0.4, 2.8));
  std::vector<uint8_t> labels(32);
  for (auto& l : labels) l = static_cast<uint8_t>(rng.below(10));
  m.forward();
  softmax_cross_entropy({m.dst(), 320}, labels, 10, 32, {m.diff_dst(), 320});
  m.backward();
  std::vector<std::vector<float>> out;
  for (const Param& p : m.params().params()) out.push_back(m.params().read_plain(p, m.params().grads()));
  for (const std::string& impl : m.implementations()) {
    EXPECT_EQ(impl.find(": ref"), std::string::npos) << impl;
    for (const std::string& layer : plan.layers) {
      if (impl.starts_with(layer + " forward: ") || impl.starts_with(layer + " backward weights: ") ||
          impl.starts_with(layer + " backward data: ")) {
        // oneDNN 2.6 names its bf16 kernels "...bf16" ("jit:avx512_core_amx_bf16"), 3.7 by ISA only
        // ("brg_conv_fwd:avx10_1_512_amx").
        EXPECT_TRUE(impl.find("bf16") != std::string::npos || impl.find("amx") != std::string::npos)
            << "not a native bf16 kernel: " << impl;
      }
    }
  }
  return out;
}

TEST(Bf16Step, GradientsMatchF32WithinBf16Precision) {
  if (!cpu_has_native_bf16()) GTEST_SKIP() << kNoBf16;
  const auto f32 = gradients({});
  const auto bf16 = gradients(plan_bf16(kSeed, TrainPrecision::bf16));
  ASSERT_EQ(f32.size(), bf16.size());
  for (size_t t = 0; t < f32.size(); ++t) {
    double diff = 0, size = 0, dot = 0, a2 = 0, b2 = 0;
    for (size_t i = 0; i < f32[t].size(); ++i) {
      diff += std::abs(f32[t][i] - bf16[t][i]), size += std::abs(f32[t][i]);
      dot += f32[t][i] * bf16[t][i], a2 += f32[t][i] * f32[t][i], b2 += bf16[t][i] * bf16[t][i];
    }
    std::printf("tensor %zu: relative %.4f cosine %.6f\n", t, diff / size, dot / std::sqrt(a2 * b2));
    // bf16 keeps 8 bits of mantissa (relative error 2^-9 per value), but a gradient is a sum of
    // terms of both signs that mostly cancel, so its relative error is larger: 0.3-10% measured
    // (cosine 0.995-0.99999). Backward data from weights never converted to bf16 (zeros) left
    // conv1 without a gradient: relative error 1, and the test failed.
    EXPECT_LT(diff / size, 0.2) << "tensor " << t;
    EXPECT_GT(dot / std::sqrt(a2 * b2), 0.99) << "tensor " << t;
    EXPECT_GT(size, 0);
  }
}

TEST(Bf16Training, OneEpochOn10kImagesLearnsAsF32Does) {
  if (!cpu_has_native_bf16()) GTEST_SKIP() << kNoBf16;
  const DatasetSplits data = load_named_dataset("mnist", dataset_dir("mnist"));
  std::vector<uint32_t> order(12000);
  std::iota(order.begin(), order.end(), 0u);
  Rng rng(0);
  rng.shuffle(std::span(order));
  const std::span<const uint32_t> train(order.data(), 10000), held_out(order.data() + 10000, 2000);
  double accuracy[2];
  for (int bf16 = 0; bf16 < 2; ++bf16) {
    Model model(kSeed, 64, Mode::train, plan_bf16(kSeed, bf16 ? TrainPrecision::bf16 : TrainPrecision::f32));
    Model eval(kSeed, 500, Mode::infer);
    model.init_params(0);
    Optimizer optimizer({OptimizerConfig::Kind::adam, 1e-4}, model.params().size());
    const LearningRate lr{Schedule::onecycle, 5e-3, 157};
    EpochState state;
    ASSERT_TRUE(train_epoch(model, optimizer, data.train, train, data.normalization, lr, state));
    eval.load_state(model.state());
    accuracy[bf16] = evaluate(eval, data.train, held_out, data.normalization).accuracy;
  }
  std::printf("1 epoch on 10k, held-out accuracy: f32 %.4f, bf16 %.4f\n", accuracy[0], accuracy[1]);
  EXPECT_GE(accuracy[1], 0.96);
  EXPECT_NEAR(accuracy[1], accuracy[0], 0.01);
}

}  // namespace
}  // namespace inkwell
