// Plans by measurement (check/measured_plan.hpp), with injected timings: the faster candidate
// wins, a near tie keeps the rule's, a cached plan is used as it stands (no timing, whatever the
// machine would measure now), `measure` measures again, `rule` never times; and the CPU budget
// (core/cpu_budget.hpp) reads cgroup quotas as the kernel writes them.
#include <gtest/gtest.h>

#include <sched.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "inkwell/check/measured_plan.hpp"
#include "inkwell/check/plan_cache.hpp"
#include "inkwell/core/cpu_budget.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/model_file/model_file.hpp"

namespace inkwell {
namespace {

namespace fs = std::filesystem;
using check::PlanSource;

// A probe that always measures `seconds`.
check::Probe fixed(double seconds) {
  return [seconds] { return seconds; };
}

class MeasuredPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("inkwell-measured-plan-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    cache = std::make_unique<check::PlanCache>((dir / "plans.tsv").string());
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path dir;
  std::unique_ptr<check::PlanCache> cache;
  const Architecture seed{"conv16k5p2-relu-maxpool2-conv32k5p2-relu-maxpool2-fc10", {1, 28, 28}};
};

TEST(PickFastest, TakesTheCheapestAndKeepsTheEarlierOnANearTie) {
  EXPECT_EQ(check::pick_fastest({3.0, 1.0, 2.0}), 1u);
  EXPECT_EQ(check::pick_fastest({1.0, 0.99, 1.5}), 0u);  // 1% faster: noise, the rule stays
  EXPECT_EQ(check::pick_fastest({1.0, 0.9, 0.89}), 1u);  // 0.89 is not 3% under 0.9
  EXPECT_EQ(check::pick_fastest({2.0}), 0u);
  EXPECT_THROW(check::pick_fastest({}), Error);
}

TEST_F(MeasuredPlan, TrainingTakesTheFasterCandidateAndCachesIt) {
  std::map<std::string, int> timed;
  // bf16 in conv2 only is fastest; the others cost more.
  auto timer = [&](const Architecture&, const Bf16Plan& p, int64_t) {
    std::string name;
    for (const auto& l : p.layers) name += l + " ";
    ++timed[name];
    return fixed(name == "conv2 " ? 1e-5 : name.empty() ? 3e-5 : 2e-5);
  };
  check::PlanReport report;
  const Bf16Plan plan = check::measured_bf16_plan(seed, TrainPrecision::automatic, 64, PlanSource::cached, *cache,
                                                  &report, timer);
  if (!cpu_has_native_bf16()) {  // no candidates to time: f32, by the rule
    EXPECT_TRUE(plan.layers.empty());
    EXPECT_TRUE(timed.empty());
    std::printf("this CPU (as capped) has no native bf16: the no-timing branch was checked\n");
    return;
  }
  EXPECT_EQ(plan.layers, std::set<std::string>{"conv2"});
  EXPECT_EQ(timed.size(), 3u);  // f32, both convs, conv2 (the rule's is one of them)
  EXPECT_EQ(report.chosen, "bf16 conv2");
  EXPECT_EQ(report.timings.size(), 3u);

  // Cached: used as it stands, nothing timed, though f32 would now win.
  timed.clear();
  auto f32_wins = [&](const Architecture&, const Bf16Plan& p, int64_t) {
    ++timed["x"];
    return fixed(p.layers.empty() ? 1e-6 : 1.0);
  };
  check::PlanReport again;
  EXPECT_EQ(check::measured_bf16_plan(seed, TrainPrecision::automatic, 64, PlanSource::cached, *cache, &again, f32_wins).layers,
            std::set<std::string>{"conv2"});
  EXPECT_TRUE(timed.empty());
  EXPECT_TRUE(again.from_cache);
  // Another batch is another key: measured.
  EXPECT_TRUE(check::measured_bf16_plan(seed, TrainPrecision::automatic, 32, PlanSource::cached, *cache, nullptr, f32_wins)
                  .layers.empty());
  // measure: timed again, and the new verdict replaces the old.
  EXPECT_TRUE(check::measured_bf16_plan(seed, TrainPrecision::automatic, 64, PlanSource::measure, *cache, nullptr, f32_wins)
                  .layers.empty());
  timed.clear();
  EXPECT_TRUE(check::measured_bf16_plan(seed, TrainPrecision::automatic, 64, PlanSource::cached, *cache, nullptr, timer)
                  .layers.empty());
  EXPECT_TRUE(timed.empty());
}

// The candidates take turns: a machine that slows down over the measurement (here each run of
// any probe costs more than the last) slows them alike, and the cheaper one still wins.
TEST_F(MeasuredPlan, CandidatesTakeTurnsSoThatADriftFallsOnAll) {
  const ModelFile file = load_model_file(std::string(INKWELL_SOURCE_DIR) + "/models/default.inkw");
  double clock = 1.0;
  std::vector<std::string> order;
  auto drifting = [&](const Int8Plan& p) -> check::Probe {
    const double own = p.layers.empty() ? 1.0 : 0.9;  // int8 10% cheaper
    const std::string name = p.layers.empty() ? "f32" : "int8";
    return [&, own, name] {
      order.push_back(name);
      return own * (clock *= 1.05);
    };
  };
  const Int8Plan plan = check::measured_int8_plan(file.architecture, file.tensors, file.calibration,
                                                  Precision::automatic, 64, PlanSource::measure, *cache, nullptr, drifting);
  EXPECT_FALSE(plan.layers.empty());
  ASSERT_GE(order.size(), 10u);
  EXPECT_NE(order[order.size() - 1], order[order.size() - 2]) << "the probes did not alternate";
}

TEST_F(MeasuredPlan, TrainingRuleAndForcedPrecisionsAreNeverTimed) {
  int calls = 0;
  auto timer = [&](const Architecture&, const Bf16Plan&, int64_t) { return ++calls, fixed(1.0); };
  EXPECT_EQ(check::measured_bf16_plan(seed, TrainPrecision::automatic, 64, PlanSource::rule, *cache, nullptr, timer).layers,
            plan_bf16(seed, TrainPrecision::automatic).layers);
  EXPECT_EQ(check::measured_bf16_plan(seed, TrainPrecision::f32, 64, PlanSource::measure, *cache, nullptr, timer).layers,
            std::set<std::string>{});
  EXPECT_EQ(check::measured_bf16_plan(seed, TrainPrecision::bf16, 64, PlanSource::measure, *cache, nullptr, timer).layers,
            plan_bf16(seed, TrainPrecision::bf16).layers);
  const Architecture no_convs{"fc32-relu-fc10", {1, 28, 28}};  // one candidate: f32
  EXPECT_TRUE(check::measured_bf16_plan(no_convs, TrainPrecision::automatic, 64, PlanSource::measure, *cache, nullptr, timer)
                  .layers.empty());
  EXPECT_EQ(calls, 0);
}

TEST_F(MeasuredPlan, ACacheValueNoCandidateHasIsMeasuredAgain) {
  const ModelFile file = load_model_file(std::string(INKWELL_SOURCE_DIR) + "/models/default.inkw");
  int calls = 0;
  auto f32_wins = [&](const Int8Plan& p) { return ++calls, fixed(p.layers.empty() ? 1.0 : 2.0); };
  auto measure = [&] {
    return check::measured_int8_plan(file.architecture, file.tensors, file.calibration, Precision::automatic, 64,
                                     PlanSource::cached, *cache, nullptr, f32_wins);
  };
  EXPECT_TRUE(measure().layers.empty());
  const int candidates = calls;
  ASSERT_GE(candidates, 2);
  measure();
  ASSERT_EQ(calls, candidates);  // cached
  // Rewrite every value in the file to a plan no candidate is: measured again.
  std::ifstream in(dir / "plans.tsv");
  std::string text((std::istreambuf_iterator<char>(in)), {}), edited;
  for (size_t start = 0; start < text.size();) {
    const size_t end = text.find('\n', start), tab = text.find('\t', start);
    edited += text.substr(start, tab - start) + "\tint8 conv9\n";
    start = end == std::string::npos ? text.size() : end + 1;
  }
  std::ofstream(dir / "plans.tsv") << edited;
  EXPECT_TRUE(measure().layers.empty());
  EXPECT_EQ(calls, 2 * candidates);
}

TEST_F(MeasuredPlan, InferenceTakesTheFasterPrecision) {
  const ModelFile file = load_model_file(std::string(INKWELL_SOURCE_DIR) + "/models/default.inkw");
  ASSERT_FALSE(file.calibration.empty());
  int calls = 0;
  auto f32_wins = [&](const Int8Plan& p) { return ++calls, fixed(p.layers.empty() ? 1e-6 : 1e-5); };
  check::PlanReport report;
  EXPECT_TRUE(check::measured_int8_plan(file.architecture, file.tensors, file.calibration, Precision::automatic, 64,
                                        PlanSource::cached, *cache, &report, f32_wins)
                  .layers.empty());
  EXPECT_EQ(report.chosen, "f32");
  EXPECT_GE(calls, 2);  // the rule's plan and f32 at least; all-int8 when it differs from the rule
  EXPECT_EQ(report.timings.size(), static_cast<size_t>(calls));

  auto all_int8_wins = [&](const Int8Plan& p) { return fixed(1.0 / (1.0 + static_cast<double>(p.layers.size()))); };
  EXPECT_EQ(check::measured_int8_plan(file.architecture, file.tensors, file.calibration, Precision::automatic, 64,
                                      PlanSource::measure, *cache, nullptr, all_int8_wins)
                .layers.size(),
            plan_int8(file.architecture, file.calibration, Precision::int8).layers.size());

  // Forced precisions and the rule are never timed.
  calls = 0;
  for (const auto& [precision, source] : {std::pair{Precision::f32, PlanSource::measure},
                                          {Precision::int8, PlanSource::measure},
                                          {Precision::automatic, PlanSource::rule}})
    EXPECT_EQ(check::measured_int8_plan(file.architecture, file.tensors, file.calibration, precision, 64, source,
                                        *cache, nullptr, f32_wins)
                  .layers.size(),
              plan_int8(file.architecture, file.calibration, precision).layers.size());
  EXPECT_EQ(calls, 0);
}

TEST(RunBatchCandidates, AreTheMostThenPowersOfTwoDownTo16) {
  EXPECT_EQ(check::run_batch_candidates(64), (std::vector<int64_t>{64, 32, 16}));
  EXPECT_EQ(check::run_batch_candidates(256), (std::vector<int64_t>{256, 128, 64, 32, 16}));
  EXPECT_EQ(check::run_batch_candidates(100), (std::vector<int64_t>{100, 64, 32, 16}));
  EXPECT_EQ(check::run_batch_candidates(17), (std::vector<int64_t>{17, 16}));
  EXPECT_EQ(check::run_batch_candidates(16), (std::vector<int64_t>{16}));
  EXPECT_EQ(check::run_batch_candidates(3), (std::vector<int64_t>{3}));
  EXPECT_THROW(check::run_batch_candidates(0), Error);
}

TEST_F(MeasuredPlan, RunBatchTakesTheFasterSizeAndCachesIt) {
  const ModelFile file = load_model_file(std::string(INKWELL_SOURCE_DIR) + "/models/accurate.inkw");
  std::map<int64_t, int> timed;
  // Runs of 32 cost least per image; 64 is the rule.
  auto timer = [&](int64_t rows) { return ++timed[rows], fixed(rows == 32 ? 1e-5 : rows == 16 ? 1.2e-5 : 1.5e-5); };
  check::PlanReport report;
  EXPECT_EQ(check::measured_run_batch(file.architecture, file.tensors, Int8Plan{}, 64, PlanSource::cached, *cache,
                                      &report, timer),
            32);
  EXPECT_EQ(report.chosen, "runs of 32");
  EXPECT_EQ(timed, (std::map<int64_t, int>{{64, 1}, {32, 1}, {16, 1}}));  // each probe made once
  ASSERT_EQ(report.timings.size(), 3u);

  // Cached: used as it stands, whatever the machine would measure now.
  auto sixteen_wins = [&](int64_t rows) { return ++timed[rows], fixed(rows == 16 ? 1e-6 : 1e-5); };
  check::PlanReport again;
  EXPECT_EQ(check::measured_run_batch(file.architecture, file.tensors, Int8Plan{}, 64, PlanSource::cached, *cache,
                                      &again, sixteen_wins),
            32);
  EXPECT_TRUE(again.from_cache);
  // Another precision is another key; `measure` measures again; `rule` is the most, never timed.
  EXPECT_EQ(check::measured_run_batch(file.architecture, file.tensors,
                                      plan_int8(file.architecture, file.calibration, Precision::int8), 64,
                                      PlanSource::cached, *cache, nullptr, sixteen_wins),
            16);
  EXPECT_EQ(check::measured_run_batch(file.architecture, file.tensors, Int8Plan{}, 64, PlanSource::measure, *cache,
                                      nullptr, sixteen_wins),
            16);
  timed.clear();
  EXPECT_EQ(check::measured_run_batch(file.architecture, file.tensors, Int8Plan{}, 64, PlanSource::rule, *cache,
                                      nullptr, sixteen_wins),
            64);
  // A batch of 16 or fewer has nothing to choose.
  EXPECT_EQ(check::measured_run_batch(file.architecture, file.tensors, Int8Plan{}, 16, PlanSource::measure, *cache,
                                      nullptr, sixteen_wins),
            16);
  EXPECT_TRUE(timed.empty());
  // A near tie (within 3%) keeps the larger run, the rule's.
  auto near_tie = [&](int64_t rows) { return fixed(rows == 64 ? 1e-5 : 0.98e-5); };
  EXPECT_EQ(check::measured_run_batch(file.architecture, file.tensors, Int8Plan{}, 64, PlanSource::measure, *cache,
                                      nullptr, near_tie),
            64);
}

TEST_F(MeasuredPlan, TheRealTimersMeasureSomething) {
  const double train = check::training_step_probe(seed, Bf16Plan{}, 16)();
  EXPECT_TRUE(std::isfinite(train) && train > 0) << train;
  const ModelFile file = load_model_file(std::string(INKWELL_SOURCE_DIR) + "/models/default.inkw");
  check::PlanReport report;
  check::measured_int8_plan(file.architecture, file.tensors, file.calibration, Precision::automatic, 32,
                            PlanSource::measure, *cache, &report);
  for (const check::Timing& t : report.timings)
    EXPECT_TRUE(std::isfinite(t.seconds_per_image) && t.seconds_per_image > 0) << t.candidate;
  EXPECT_NE(report.summary().find("us/image"), std::string::npos) << report.summary();
  // The rows a run, timed on as many concurrent one-thread copies as the process may use cores.
  check::PlanReport runs;
  const int64_t rows = check::measured_run_batch(file.architecture, file.tensors, Int8Plan{}, 32,
                                                 PlanSource::measure, *cache, &runs);
  EXPECT_TRUE(rows == 32 || rows == 16) << rows;
  ASSERT_EQ(runs.timings.size(), 2u);
  for (const check::Timing& t : runs.timings)
    EXPECT_TRUE(std::isfinite(t.seconds_per_image) && t.seconds_per_image > 0) << t.candidate;
}

TEST(CpuBudget, ReadsCgroupQuotasAsTheKernelWritesThem) {
  EXPECT_EQ(parse_cpu_max("max 100000"), std::nullopt);
  EXPECT_EQ(parse_cpu_max("150000 100000"), 1.5);
  EXPECT_EQ(parse_cpu_max("50000 100000\n"), 0.5);
  EXPECT_EQ(parse_cpu_max(""), std::nullopt);
  EXPECT_EQ(parse_cpu_max("12x 100000"), std::nullopt);
  EXPECT_EQ(parse_cpu_max("100000 0"), std::nullopt);
  EXPECT_EQ(parse_cfs_quota("-1", "100000"), std::nullopt);
  EXPECT_EQ(parse_cfs_quota("200000", "100000"), 2.0);
  EXPECT_EQ(parse_cfs_quota("", "100000"), std::nullopt);

  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  EXPECT_EQ(affinity_cpus(), CPU_COUNT(&set));
  EXPECT_GE(usable_cpus(), 1);
  EXPECT_LE(usable_cpus(), CPU_COUNT(&set));
  // Bound to one CPU, the process has one.
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) {
      CPU_SET(c, &one);
      break;
    }
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  EXPECT_EQ(affinity_cpus(), 1);
  EXPECT_EQ(usable_cpus(), 1);
  ASSERT_EQ(sched_setaffinity(0, sizeof set, &set), 0);
}

}  // namespace
}  // namespace inkwell
