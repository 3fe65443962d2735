// --resume's reading of a checkpoint's metadata (saved_run.hpp): a run as inkwell-train saves it
// reads back; every hostile value is refused naming the file and the key, including the ones
// issue 20 found getting through (a step count past the epoch, optimizer.steps -1, negative
// images, ranks 0), and data that changed since the save is named as such.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <utility>
#include <vector>
#include <string>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/train/saved_run.hpp"

namespace inkwell {
namespace {

// Epoch 2 of 3, 100 steps into it, MNIST's 55,000 training images in batches of 64 (860 steps).
std::map<std::string, std::string> saved_meta() {
  return {{"data", "mnist"}, {"epochs", "3"}, {"batch", "64"}, {"lr", "0.001"}, {"weight_decay", "0.0001"},
          {"optimizer", "adam"}, {"schedule", "cosine"}, {"seed", "7"}, {"valid", "5000"}, {"train_images", "55000"},
          {"augment", "no"}, {"test_fraction", "0.142857"}, {"skip_bad", "no"}, {"keep_best", "yes"},
          {"test_at_end", "no"}, {"preprocessing", "mnist"}, {"init_from", ""}, {"freeze", "0"}, {"precision", "auto"},
          {"ranks", "1"}, {"epoch", "2"}, {"epoch.steps_done", "100"}, {"epoch.loss_sum", "812.5"},
          {"epoch.correct", "6300"}, {"epoch.images", "6400"}, {"epoch.seconds", "3.5"}, {"best.epoch", "1"},
          {"best.valid_acc", "0.98"}, {"optimizer.steps", "960"}};
}

// The message of the Error that reading `meta` (then fitting it to 55,000 images) throws; "" if none.
std::string refusal(const std::map<std::string, std::string>& meta, int64_t train_images = 55000) {
  try {
    check_saved_run_fits_data(read_saved_run(meta, "run/model.inkw"), "run/model.inkw", train_images);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SavedRun, ARunAsSavedReadsBack) {
  const SavedRun r = read_saved_run(saved_meta(), "run/model.inkw");
  EXPECT_EQ(r.epoch, 2);
  EXPECT_EQ(r.partial.steps_done, 100);
  EXPECT_EQ(r.partial.images, 6400);
  EXPECT_EQ(r.optimizer_steps, 960);
  EXPECT_EQ(r.steps_per_epoch(55000), 860);
  EXPECT_TRUE(r.keep_best);
  EXPECT_FALSE(r.complete());
  EXPECT_EQ(refusal(saved_meta()), "");
}

// Written and read back, a run is the same run: every field, the doubles to the bit.
TEST(SavedRun, WhatIsWrittenReadsBackTheSame) {
  SavedRun r = read_saved_run(saved_meta(), "m");
  r.lr = 0.1 + 0.2, r.partial.loss_sum = 1.0 / 3, r.best_valid_acc = 0.9871;
  const auto meta = saved_run_meta(r);
  const SavedRun back = read_saved_run(meta, "m");
  EXPECT_EQ(saved_run_meta(back), meta);
  EXPECT_EQ(back.lr, r.lr);
  EXPECT_EQ(back.partial.loss_sum, r.partial.loss_sum);
  EXPECT_EQ(back.train_images, 55000);
  EXPECT_EQ(back.optimizer_steps, 960);
  r.optimizer_steps = -1;  // best.inkw: no optimizer state, no step count
  EXPECT_FALSE(saved_run_meta(r).contains("optimizer.steps"));
}

TEST(SavedRun, OlderCheckpointsWithoutNewerKeysRead) {
  auto meta = saved_meta();
  for (const char* key : {"train_images", "keep_best", "test_at_end", "init_from", "freeze", "preprocessing",
                          "precision", "ranks", "best.epoch", "best.valid_acc"})
    meta.erase(key);
  EXPECT_EQ(refusal(meta), "");
  const SavedRun r = read_saved_run(meta, "m");
  EXPECT_EQ(r.train_images, -1);
  EXPECT_EQ(r.precision, "f32");
  EXPECT_EQ(r.ranks, 1);
}

TEST(SavedRun, EveryHostileValueIsRefusedNamingTheFileAndTheKey) {
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"epoch.steps_done", "-1"}, {"epoch.images", "-5"}, {"optimizer.steps", "-1"}, {"ranks", "0"},
      {"batch", "0"}, {"batch", "1e9"}, {"epochs", "x"}, {"lr", "nan"}, {"lr", "inf"}, {"lr", "0"},
      {"weight_decay", "-0.1"}, {"seed", "-3"}, {"epoch", "0"}, {"epoch", "5"}, {"epoch.correct", "6401"},
      {"epoch.loss_sum", "-1"}, {"epoch.loss_sum", "1e300"}, {"epoch.seconds", "-2"}, {"best.epoch", "2"},
      {"best.valid_acc", "1.5"}, {"augment", "maybe"}, {"optimizer", "lbfgs"}, {"schedule", "\x1b[2J"},
      {"test_fraction", "1"}, {"freeze", "300"}, {"data", ""}, {"valid", "12abc"}, {"train_images", "0"}};
  for (const auto& [key, value] : hostile) {
    auto meta = saved_meta();
    meta[key] = value;
    const std::string message = refusal(meta);
    EXPECT_NE(message.find("run/model.inkw"), std::string::npos) << key << "=" << value << ": " << message;
    EXPECT_NE(message.find(key), std::string::npos) << key << "=" << value << ": " << message;
    EXPECT_EQ(message.find('\x1b'), std::string::npos) << "a value was echoed";
  }
}

TEST(SavedRun, TheKeysMustAgreeWithEachOther) {
  auto meta = saved_meta();
  meta["epoch.images"] = "6336";  // 99 steps' worth: 100 steps need more than 6,336
  EXPECT_NE(refusal(meta).find("too few for 100 steps"), std::string::npos);
  meta = saved_meta();
  meta["best.epoch"] = "0";  // no epoch scored, yet a best accuracy
  EXPECT_NE(refusal(meta).find("disagree"), std::string::npos);
  meta = saved_meta();
  meta["optimizer.steps"] = "50";  // fewer than the steps done this epoch
  EXPECT_NE(refusal(meta).find("optimizer.steps"), std::string::npos);
  meta = saved_meta();
  meta["epoch"] = "4", meta["optimizer.steps"] = "2680";  // complete, yet mid-epoch
  EXPECT_NE(refusal(meta).find("complete"), std::string::npos);
}

TEST(SavedRun, DataThatChangedSinceTheSaveIsNamed) {
  // 10 files fewer: the key saved says so, with both counts.
  EXPECT_NE(refusal(saved_meta(), 54990).find("trained on 55000 images an epoch, the data at hand (mnist) gives 54990 (10 fewer)"),
            std::string::npos);
  // Without the key (an older checkpoint): a step count past the data's epoch, which looped forever before.
  auto meta = saved_meta();
  meta.erase("train_images");
  meta["epoch.steps_done"] = "900", meta["epoch.images"] = "57600", meta["epoch.correct"] = "57000";
  meta["epoch.loss_sum"] = "100", meta["optimizer.steps"] = "1760";
  EXPECT_NE(refusal(meta).find("'epoch.steps_done' is 900 but an epoch of the data at hand has 860 steps"), std::string::npos);
  // ... or an optimizer step count that the data's epochs do not make.
  meta = saved_meta();
  meta.erase("train_images");
  EXPECT_NE(refusal(meta, 50000).find("'optimizer.steps' is 960"), std::string::npos);
}

// Optimizer state goes by name and is checked: a hostile checkpoint's missing, reshaped,
// non-finite, negative, doubled or extra tensor is refused naming the file and the tensor.
TEST(SavedRun, OptimizerStateRestoresByNameAndIsChecked) {
  const Architecture arch{"conv4k3p1-relu-maxpool2-fc10", {1, 28, 28}};
  Model model(arch, 2, Mode::train);
  model.init_params(3);
  Optimizer adam({OptimizerConfig::Kind::adam, 0}, model.params().size());
  for (size_t i = 0; i < adam.m().size(); ++i) adam.m()[i] = 0.001f * static_cast<float>(i % 97), adam.v()[i] = 1e-6f * static_cast<float>(i % 13);
  const std::vector<NamedTensor> state = optimizer_state(model.params(), adam);
  ASSERT_EQ(state.size(), 2 * model.params().params().size());
  std::vector<NamedTensor> shuffled(state.rbegin(), state.rend());  // by name, not by position
  Optimizer back({OptimizerConfig::Kind::adam, 0}, model.params().size());
  restore_optimizer_state(shuffled, "run/model.inkw", model.params(), back);
  EXPECT_EQ(optimizer_state(model.params(), back).front().data, state.front().data);
  EXPECT_EQ(optimizer_state(model.params(), back).back().data, state.back().data);

  auto refusal = [&](std::vector<NamedTensor> bad) -> std::string {
    Optimizer o({OptimizerConfig::Kind::adam, 0}, model.params().size());
    try {
      restore_optimizer_state(bad, "run/model.inkw", model.params(), o);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  std::vector<NamedTensor> bad = state;
  bad.pop_back();
  EXPECT_NE(refusal(bad).find("run/model.inkw: no optimizer tensor"), std::string::npos) << refusal(bad);
  bad = state, bad[0].dims = {static_cast<int64_t>(bad[0].data.size())};
  EXPECT_NE(refusal(bad).find("' is "), std::string::npos) << refusal(bad);
  bad = state, bad[0].data[5] = NAN;
  EXPECT_NE(refusal(bad).find("not finite"), std::string::npos) << refusal(bad);
  bad = state, bad[1].data[2] = -1;
  EXPECT_NE(refusal(bad).find("non-negative"), std::string::npos) << refusal(bad);
  bad = state, bad.push_back(state[0]);
  EXPECT_NE(refusal(bad).find("appears twice"), std::string::npos) << refusal(bad);
  bad = state, bad.push_back({"nothing.m", {1}, {0.f}});
  EXPECT_NE(refusal(bad).find("1 optimizer tensors that no parameter"), std::string::npos) << refusal(bad);
}

}  // namespace
}  // namespace inkwell
