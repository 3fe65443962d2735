// Optimizer steps against values computed by hand (and matching torch.optim with the same inputs).
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <vector>

#include "inkwell/core/error.hpp"
#include "inkwell/train/optimizer.hpp"
#include "inkwell/train/schedule.hpp"

namespace inkwell {
namespace {

// An arena holding one plain 2-element parameter w with gradient g.
class OptimizerTest : public ::testing::Test {
 protected:
  OptimizerTest() : engine(dnnl::engine::kind::cpu, 0), arena(engine) {
    arena.add("w", {2}, dnnl::memory::desc({2}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a), 2);
    arena.allocate();
  }
  void set(float w0, float w1, float g0, float g1) {
    arena.values()[0] = w0, arena.values()[1] = w1;
    arena.grads()[0] = g0, arena.grads()[1] = g1;
  }
  float w(int i) { return arena.values()[i]; }
  dnnl::engine engine;
  ParamArena arena;
};

TEST_F(OptimizerTest, AdamFirstStepMovesEachWeightByLr) {
  // Step 1: m = 0.1 g, v = 0.001 g^2; bias-corrected m/sqrt(v) = sign(g): w -= lr * sign(g).
  Optimizer opt({OptimizerConfig::Kind::adam}, arena.size());
  set(1.f, -2.f, 0.5f, -4.f);
  opt.step(arena, 0.01);
  EXPECT_NEAR(w(0), 1.f - 0.01f, 1e-6);
  EXPECT_NEAR(w(1), -2.f + 0.01f, 1e-6);
}

TEST_F(OptimizerTest, AdamSecondStepMatchesHandComputation) {
  Optimizer opt({OptimizerConfig::Kind::adam}, arena.size());
  set(1.f, 0.f, 0.5f, 0.f);
  opt.step(arena, 0.1);  // w0 = 0.9
  arena.grads()[0] = -1.f;
  opt.step(arena, 0.1);
  // m = 0.9*0.05 + 0.1*(-1) = -0.055; v = 0.999*0.00025 + 0.001*1 = 0.00124975
  // w = 0.9 - 0.1 * (m / (1 - 0.81)) / (sqrt(v / (1 - 0.998001)) + 1e-8)
  const double m = -0.055 / 0.19, v = 0.00124975 / (1 - 0.999 * 0.999);
  EXPECT_NEAR(w(0), 0.9 - 0.1 * m / (std::sqrt(v) + 1e-8), 1e-5);
  EXPECT_EQ(w(1), 0.f);  // zero weight, zero gradient: padding stays zero
}

TEST_F(OptimizerTest, AdamCouplesWeightDecayIntoTheGradient) {
  // g' = g + wd * w = 0 + 0.5 * 2 = 1: the first step moves w by lr * sign(g').
  Optimizer opt({OptimizerConfig::Kind::adam, 0.5}, arena.size());
  set(2.f, 0.f, 0.f, 0.f);
  opt.step(arena, 0.1);
  EXPECT_NEAR(w(0), 1.9f, 1e-6);
}

TEST_F(OptimizerTest, AdamWDecouplesWeightDecay) {
  // w = (1 - lr * wd) * w - lr * sign(g) = 0.95 * 2 - 0.1
  Optimizer opt({OptimizerConfig::Kind::adamw, 0.5}, arena.size());
  set(2.f, 0.f, 3.f, 0.f);
  opt.step(arena, 0.1);
  EXPECT_NEAR(w(0), 0.95f * 2 - 0.1f, 1e-6);
}

TEST_F(OptimizerTest, SgdMomentumWithWeightDecay) {
  // PyTorch form: v = mu v + (g + wd w); w -= lr v
  OptimizerConfig config{OptimizerConfig::Kind::sgd, 0.1};
  config.momentum = 0.9;
  Optimizer opt(config, arena.size());
  set(1.f, 0.f, 2.f, 0.f);
  opt.step(arena, 0.5);  // v = 2.1; w = 1 - 1.05 = -0.05
  EXPECT_NEAR(w(0), -0.05f, 1e-6);
  opt.step(arena, 0.5);  // v = 0.9*2.1 + 2 - 0.005 = 3.885; w = -0.05 - 1.9425
  EXPECT_NEAR(w(0), -1.9925f, 1e-5);
}

// Large arenas are updated by an OpenMP team: the same bytes for any thread count, and the same
// values as the serial update of a small arena (every optimizer, a few steps).
TEST(OptimizerThreads, ALargeArenaGetsTheSameUpdateForAnyThreadCount) {
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const int64_t n = 200'000;
  for (auto kind : {OptimizerConfig::Kind::adam, OptimizerConfig::Kind::adamw, OptimizerConfig::Kind::sgd}) {
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2, 3}) {
      ParamArena arena(engine);
      arena.add("w", {n}, dnnl::memory::desc({n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a), 1);
      arena.allocate();
      for (int64_t i = 0; i < n; ++i) arena.values()[i] = std::sin(0.001f * i), arena.grads()[i] = std::cos(0.003f * i);
      omp_set_num_threads(threads);
      Optimizer opt({kind, 1e-4}, arena.size());
      for (int s = 0; s < 3; ++s) opt.step(arena, 1e-3);
      results.emplace_back(arena.values(), arena.values() + n);
    }
    omp_set_num_threads(2);
    EXPECT_EQ(results[0], results[1]);
    EXPECT_EQ(results[0], results[2]);
    // Element 12345 as a one-element arena updates it (the serial path).
    ParamArena one(engine);
    one.add("w", {1}, dnnl::memory::desc({1}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a), 1);
    one.allocate();
    one.values()[0] = std::sin(0.001f * 12345), one.grads()[0] = std::cos(0.003f * 12345);
    Optimizer opt({kind, 1e-4}, one.size());
    for (int s = 0; s < 3; ++s) opt.step(one, 1e-3);
    EXPECT_EQ(one.values()[0], results[0][12345]);
  }
}

TEST(OptimizerNames, ParseAndReject) {
  EXPECT_EQ(parse_optimizer_kind("adamw"), OptimizerConfig::Kind::adamw);
  EXPECT_THROW(parse_optimizer_kind("adagrad"), Error);
}

TEST(Schedule, ConstantAndCosine) {
  EXPECT_EQ(learning_rate(Schedule::constant, 0.1, 57, 100), 0.1);
  EXPECT_NEAR(learning_rate(Schedule::cosine, 0.1, 0, 100), 0.1, 1e-12);
  EXPECT_NEAR(learning_rate(Schedule::cosine, 0.1, 50, 100), 0.05, 1e-12);
  EXPECT_NEAR(learning_rate(Schedule::cosine, 0.1, 100, 100), 0.0, 1e-12);
}

TEST(Schedule, OneCycleMatchesPyTorch) {
  // torch.optim.lr_scheduler.OneCycleLR(max_lr=0.1, total_steps=100) gives these at steps 0, 29, 99.
  EXPECT_NEAR(learning_rate(Schedule::onecycle, 0.1, 0, 100), 0.004, 1e-12);
  EXPECT_NEAR(learning_rate(Schedule::onecycle, 0.1, 29, 100), 0.1, 1e-12);
  EXPECT_NEAR(learning_rate(Schedule::onecycle, 0.1, 99, 100), 0.004 / 1e4, 1e-12);
  EXPECT_GT(learning_rate(Schedule::onecycle, 0.1, 15, 100), learning_rate(Schedule::onecycle, 0.1, 5, 100));
  EXPECT_THROW(parse_schedule("step"), Error);
}

}  // namespace
}  // namespace inkwell
