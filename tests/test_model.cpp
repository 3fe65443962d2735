// Whole models: implementations chosen, determinism, weight exchange, softmax-CE gradients.
#include <gtest/gtest.h>

#include <cmath>

#include "gradient_check.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/nn/bf16.hpp"
#include "inkwell/nn/cpu_isa.hpp"
#include "inkwell/nn/loss.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/train/optimizer.hpp"

namespace inkwell {
namespace {

const Architecture kSeed{resolve_spec("seed"), {1, 28, 28}};

void random_fill(float* x, int64_t n, uint64_t seed) {
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(rng.uniform(-1, 1));
}

// A slow fallback ("ref:" in oneDNN's implementation name) is a performance bug.
TEST(Model, SeedUsesNoReferenceImplementations) {
  for (const auto& [batch, mode] : {std::pair{64, Mode::train}, {256, Mode::infer}, {1, Mode::infer}, {1, Mode::train}}) {
    const Model m(kSeed, batch, mode);
    for (const std::string& impl : m.implementations())
      EXPECT_EQ(impl.find(": ref:"), std::string::npos) << "batch " << batch << ": " << impl;
  }
}

// inkwell's pool kernels run at oneDNN's ISA, so ONEDNN_MAX_CPU_ISA caps them too, and take the
// layout the convolutions give them without a reorder, in training and in inference: in training
// 16 channels a block with AVX-512, 8 with AVX2 (below AVX2, conv1 is a GEMM with a plain dst,
// which the pool reorders). scripts/test runs this again with ONEDNN_MAX_CPU_ISA=AVX2.
TEST(Model, KernelsFollowTheCpuIsaAndTakeTheConvLayout) {
  const bool avx512 = effective_isa_has(dnnl::cpu_isa::avx512_core);
  const std::string isa = to_string(kernel_isa());
  EXPECT_EQ(isa, effective_isa_has(dnnl::cpu_isa::avx2) ? "avx2" : "baseline");
  const std::string pool_impl = std::string("inkwell:max_pool_b") + (avx512 ? "16:" : "8:") + isa;
  const Model m(kSeed, 64, Mode::train);
  int pool_ops = 0;
  for (const std::string& impl : m.implementations()) {
    if (effective_isa_has(dnnl::cpu_isa::avx2)) {
      EXPECT_FALSE(impl.starts_with("pool") && impl.find(" src reorder") != std::string::npos)
          << "a pool kernel wants another layout than its conv gives: " << impl;
    }
    if (impl.find("inkwell:max_pool") != std::string::npos) {
      ++pool_ops;
      EXPECT_NE(impl.find(pool_impl), std::string::npos) << impl;
    }
    if (!avx512) {
      EXPECT_EQ(impl.find("avx512"), std::string::npos) << "ISA cap not honoured: " << impl;
    }
  }
  EXPECT_EQ(pool_ops, 4);  // two pools, forward and backward
  if (effective_isa_has(dnnl::cpu_isa::avx2)) {
    for (const std::string& impl : Model(kSeed, 256, Mode::infer).implementations()) {
      EXPECT_FALSE(impl.starts_with("pool") && impl.find(" src reorder") != std::string::npos)
          << "inference: a pool kernel wants another layout than its conv gives: " << impl;
    }
  }
}

TEST(Model, BuildsShapesAndRejectsBadArchitectures) {
  const Model m(kSeed, 3, Mode::train);
  EXPECT_EQ(m.src_dims(), (Dims{3, 1, 28, 28}));
  EXPECT_EQ(m.dst_dims(), (Dims{3, 10}));
  EXPECT_EQ(m.params().params().size(), 6u);
  EXPECT_EQ(m.params().find("fc1.weights").dims, (Dims{10, 32, 7, 7}));
  EXPECT_THROW(Model({"conv8k9", {1, 5, 5}}, 1, Mode::infer), Error);  // kernel larger than input
  EXPECT_THROW(Model({"fc1", {1, 5, 5}}, 1, Mode::infer), Error);      // one class
  EXPECT_THROW(Model(kSeed, 0, Mode::infer), Error);
  Model infer(kSeed, 2, Mode::infer);
  EXPECT_THROW(infer.backward(), Error);
}

// Data parallelism sums each layer's gradients as soon as backward() says they are final: every
// parameter must be reported once, in one range, and not change after it is.
TEST(Model, BackwardReportsEveryGradientOnceAndFinal) {
  const Architecture best{resolve_spec("best"), {1, 28, 28}};
  for (const auto& [arch, bf16] : {std::pair{kSeed, false}, {best, false}, {kSeed, true}}) {
    Model m(arch, 8, Mode::train, plan_bf16(arch, bf16 ? TrainPrecision::bf16 : TrainPrecision::f32));
    m.init_params(3);
    random_fill(m.src(), 8 * 784, 4);
    m.forward();
    random_fill(m.diff_dst(), 8 * m.classes(), 5);
    const float* grads = m.params().grads();
    std::vector<std::pair<size_t, size_t>> ranges;
    std::vector<std::vector<float>> at_report;
    m.backward([&](size_t begin, size_t end) {
      if (begin == end) return;
      ranges.emplace_back(begin, end);
      at_report.emplace_back(grads + begin, grads + end);
    });
    const std::vector<float> overlapped(grads, grads + m.params().size());
    for (size_t r = 0; r < ranges.size(); ++r)
      EXPECT_EQ(std::vector<float>(grads + ranges[r].first, grads + ranges[r].second), at_report[r])
          << arch.spec << ": range " << r << " changed after it was reported final";
    for (const Param& p : m.params().params()) {
      int covering = 0;
      for (const auto& [begin, end] : ranges) {
        if (p.offset >= begin && p.offset + p.size <= end) ++covering;
        else EXPECT_TRUE(p.offset + p.size <= begin || p.offset >= end) << p.name << " split over ranges";
      }
      EXPECT_EQ(covering, 1) << arch.spec << (bf16 ? " (bf16)" : "") << ": " << p.name;
    }
    m.backward();
    EXPECT_EQ(std::vector<float>(grads, grads + m.params().size()), overlapped) << arch.spec;
  }
}

TEST(Model, TrainingIsDeterministic) {
  auto run = [] {
    Model m(kSeed, 8, Mode::train);
    m.init_params(11);
    Optimizer opt({OptimizerConfig::Kind::adam, 1e-4}, m.params().size());
    const std::vector<uint8_t> labels = {0, 1, 2, 3, 4, 5, 6, 7};
    for (int step = 0; step < 3; ++step) {
      random_fill(m.src(), 8 * 784, step);
      m.forward();
      softmax_cross_entropy({m.dst(), 80}, labels, 10, 8, {m.diff_dst(), 80});
      m.backward();
      opt.step(m.params(), 1e-3);
    }
    return std::vector<float>(m.params().values(), m.params().values() + m.params().size());
  };
  EXPECT_EQ(run(), run());
}

TEST(Model, InferenceModelReproducesTrainingModelOutputs) {
  Model train(kSeed, 4, Mode::train), infer(kSeed, 4, Mode::infer);
  train.init_params(2);
  infer.load_state(train.state());
  random_fill(train.src(), 4 * 784, 9);
  std::copy(train.src(), train.src() + 4 * 784, infer.src());
  train.forward();
  infer.forward();
  for (int i = 0; i < 40; ++i) EXPECT_NEAR(train.dst()[i], infer.dst()[i], 1e-5) << i;
}

TEST(Model, ShortLastBatchGivesTheSameGradientsAsItsOwnBatch) {
  // 3 real rows in a batch of 5 (rows 3 and 4 hold garbage) == the same 3 rows in a batch of 3.
  Model five(kSeed, 5, Mode::train), three(kSeed, 3, Mode::train);
  five.init_params(4);
  three.load_state(five.state());
  random_fill(five.src(), 5 * 784, 1);
  std::copy(five.src(), five.src() + 3 * 784, three.src());
  const std::vector<uint8_t> labels = {3, 1, 4, 1, 5};
  for (Model* m : {&five, &three}) {
    m->forward();
    softmax_cross_entropy({m->dst(), static_cast<size_t>(m->batch() * 10)}, labels, 10, 3,
                          {m->diff_dst(), static_cast<size_t>(m->batch() * 10)});
    m->backward();
  }
  for (const Param& p : five.params().params()) {
    const auto a = five.params().read_plain(p, five.params().grads());
    const auto b = three.params().read_plain(three.params().find(p.name), three.params().grads());
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5 + 1e-4 * std::abs(b[i])) << p.name << "[" << i << "]";
  }
}

TEST(Model, LossGradientMatchesFiniteDifferences) {
  // A small two-conv net with the seed's structure, through softmax cross-entropy.
  const Architecture arch{"conv4k3p1-relu-maxpool2-conv6k3p1-relu-maxpool2-fc5", {1, 12, 12}};
  Model m(arch, 3, Mode::train, /*need_diff_src=*/true);
  m.init_params(5);
  random_fill(m.src(), 3 * 144, 6);
  const std::vector<uint8_t> labels = {4, 0, 2};
  auto loss = [&] {
    m.forward();
    return softmax_cross_entropy({m.dst(), 15}, labels, 5, 3, {}).loss_sum / 3;
  };
  m.forward();
  softmax_cross_entropy({m.dst(), 15}, labels, 5, 3, {m.diff_dst(), 15});
  m.backward();
  const std::vector<float> diff_src(m.diff_src(), m.diff_src() + 3 * 144);
  Rng rng(8);
  auto r = testing::check_gradient("diff_src", 3 * 144, 30, rng, [&](int64_t i) -> float& { return m.src()[i]; }, loss,
                                   [&](int64_t i) { return diff_src[i]; });
  EXPECT_EQ(r.failures, 0) << r.first_failure;
  EXPECT_GE(r.checked, 20);
  auto state = m.state();
  for (size_t p = 0; p < state.size(); ++p) {
    const auto grad = m.params().read_plain(m.params().params()[p], m.params().grads());
    auto rp = testing::check_gradient(state[p].name, static_cast<int64_t>(state[p].data.size()), 10, rng,
                                      [&](int64_t i) -> float& { return state[p].data[i]; },
                                      [&] { m.load_state(state); return loss(); }, [&](int64_t i) { return grad[i]; });
    EXPECT_EQ(rp.failures, 0) << rp.first_failure;
    EXPECT_GE(rp.checked, 3) << state[p].name << ": " << rp.at_kinks << " at kinks";
  }
}

}  // namespace
}  // namespace inkwell
