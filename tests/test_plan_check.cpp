// Low-precision plans checked against f32 on this machine (check/plan_check.hpp): a right plan
// is kept and its verdict cached; a layer made wrong on purpose runs in f32, named in a warning
// (fc1 reading its ReLU'd input as s8; a consistent change such as all weight scales x4 only
// coarsens the quantisation, 3% here, and is rightly kept);
// a cached verdict is used as it stands, and a cache line that does not parse is checked anew.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "inkwell/check/plan_cache.hpp"
#include "inkwell/check/plan_check.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/model_file/model_file.hpp"

namespace inkwell {
namespace {

namespace fs = std::filesystem;

const std::string kDefaultModel = std::string(INKWELL_SOURCE_DIR) + "/models/default.inkw";

class PlanCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("inkwell-plan-check-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    cache = std::make_unique<check::PlanCache>((dir / "plans.tsv").string());
    file = load_model_file(kDefaultModel);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string cache_text() const {
    std::ifstream in(dir / "plans.tsv");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  void set_cached_value(const std::string& value) {  // the one line's value
    std::string text = cache_text();
    ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    text = text.substr(0, text.find('\t') + 1) + value + "\n";
    std::ofstream(dir / "plans.tsv") << text;
  }
  Int8Plan all_int8() const { return plan_int8(file.architecture, file.calibration, Precision::int8); }
  Int8Plan checked(Int8Plan plan) { return check::check_int8_plan(file.architecture, file.tensors, file.normalization, plan, 32, *cache); }

  fs::path dir;
  std::unique_ptr<check::PlanCache> cache;
  ModelFile file;
};

TEST_F(PlanCheck, KeepsARightPlanAndCachesTheVerdict) {
  const Int8Plan plan = checked(all_int8());
  EXPECT_EQ(plan.layers.size(), all_int8().layers.size());
  EXPECT_TRUE(plan.warnings.empty()) << plan.warnings.front();
  const std::string text = cache_text();
  EXPECT_NE(text.find(check::machine_key()), std::string::npos) << text;
  EXPECT_NE(text.find("\tok 0."), std::string::npos) << text;
}

TEST_F(PlanCheck, RunsALayerThatDisagreesInF32AndNamesIt) {
  Int8Plan wrong = all_int8();
  ASSERT_FALSE(wrong.layers.at("fc1").src_signed);
  // Its ReLU'd input read as s8 at a 16th of its scale: nearly every value saturates, on any
  // kernel (the s8 reading alone was within tolerance under oneDNN 3.7 at AVX512_CORE).
  wrong.layers["fc1"].src_signed = true;
  wrong.layers["fc1"].src_scale /= 16;
  const Int8Plan plan = checked(wrong);
  EXPECT_FALSE(plan.layers.count("fc1"));
  EXPECT_TRUE(plan.layers.count("conv2")) << "the right layers stay int8";
  EXPECT_EQ(plan.layers.at("conv2").dst_scale, 0) << "conv2 hands f32 to fc1, which runs in f32 now";
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_NE(plan.warnings[0].find("fc1 runs in f32: in int8 it disagreed with f32 on this machine"), std::string::npos)
      << plan.warnings[0];
  EXPECT_NE(cache_text().find("\tf32 fc1 "), std::string::npos) << cache_text();
  // The same plan again: the cached verdict, the same answer.
  const Int8Plan again = checked(wrong);
  EXPECT_FALSE(again.layers.count("fc1"));
  EXPECT_EQ(again.warnings, plan.warnings);
}

TEST_F(PlanCheck, UsesTheCachedVerdictAndChecksAgainWhenItDoesNotParse) {
  checked(all_int8());
  set_cached_value("f32 conv2 0.5");
  Int8Plan plan = checked(all_int8());
  EXPECT_FALSE(plan.layers.count("conv2")) << "the cached verdict moves conv2 to f32 without a check";
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_NE(plan.warnings[0].find("conv2 runs in f32"), std::string::npos);
  set_cached_value("garbage");
  plan = checked(all_int8());
  EXPECT_EQ(plan.layers.size(), all_int8().layers.size()) << "checked anew, and right";
  EXPECT_NE(cache_text().find("\tok 0."), std::string::npos) << cache_text();
}

TEST_F(PlanCheck, KeepsARightBf16Plan) {
  const Bf16Plan asked = plan_bf16(file.architecture, TrainPrecision::bf16);
  if (asked.layers.empty()) GTEST_SKIP() << "this CPU (or ONEDNN_MAX_CPU_ISA) has no native bf16";
  const Bf16Plan plan = check::check_bf16_plan(file.architecture, asked, 64, *cache);
  EXPECT_EQ(plan.layers, asked.layers);
  EXPECT_TRUE(plan.warnings.empty()) << plan.warnings.front();
}

}  // namespace
}  // namespace inkwell
