// The training run as a library piece (training_run.hpp): a run stopped at any step, or after an
// epoch, and resumed ends with the same model file bytes and the same metrics as one that ran
// through; settings that do not fit are SettingsErrors; an unfinished run is not overwritten.
// On a small IDX dataset of noise images, so that it needs no download and runs in seconds.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "inkwell/core/read_file.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/train/training_run.hpp"

namespace fs = std::filesystem;

namespace inkwell {
namespace {

// An IDX file: magic 0x0000 08 <ndims>, big-endian dims, then the bytes.
void write_idx(const fs::path& path, std::vector<uint32_t> dims, const std::vector<uint8_t>& data) {
  std::ofstream out(path, std::ios::binary);
  const uint8_t magic[4] = {0, 0, 8, static_cast<uint8_t>(dims.size())};
  out.write(reinterpret_cast<const char*>(magic), 4);
  for (uint32_t d : dims) {
    const uint8_t be[4] = {static_cast<uint8_t>(d >> 24), static_cast<uint8_t>(d >> 16), static_cast<uint8_t>(d >> 8),
                           static_cast<uint8_t>(d)};
    out.write(reinterpret_cast<const char*>(be), 4);
  }
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

class TrainingRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("inkwell-training-run-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "data");
    // 10 classes, each a bright square at its own place over noise: learnable, and quick.
    Rng rng(1);
    for (const auto& [part, n] : {std::pair{"train", 400u}, std::pair{"t10k", 100u}}) {
      std::vector<uint8_t> images(n * 784), labels(n);
      for (uint32_t i = 0; i < n; ++i) {
        labels[i] = static_cast<uint8_t>(rng.below(10));
        for (int p = 0; p < 784; ++p) images[i * 784 + p] = static_cast<uint8_t>(rng.below(64));
        for (int r = 0; r < 6; ++r)
          for (int c = 0; c < 6; ++c) images[i * 784 + (4 + 2 * labels[i] + r) * 28 + 4 + c + labels[i]] = 255;
      }
      write_idx(dir / "data" / (std::string(part) + "-images-idx3-ubyte"), {n, 28, 28}, images);
      write_idx(dir / "data" / (std::string(part) + "-labels-idx1-ubyte"), {n}, labels);
    }
    settings.data = (dir / "data").string();
    settings.model = "conv4k3-relu-maxpool2-fc10";
    settings.epochs = 3;
    settings.batch = 32;
    settings.valid = {0, 80, 0};
    settings.keep_best = true;
    settings.seed = 11;
  }
  void TearDown() override { fs::remove_all(dir); }

  RunControls controls(const std::string& name) const {
    RunControls c;
    c.out = (dir / name).string();
    c.eval_batch = 50;
    return c;
  }
  static std::vector<uint8_t> bytes(const std::string& path) { return read_regular_file(path, 1 << 30); }
  // metrics.csv without its two timing columns (images_per_sec, seconds).
  static std::string metrics(const std::string& out) {
    std::ifstream in(fs::path(out) / "metrics.csv");
    std::string line, kept;
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      size_t start = 0;
      for (size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1) f.push_back(line.substr(start, comma - start));
      f.push_back(line.substr(start));
      for (size_t i = 0; i < f.size(); ++i)
        if (i != 7 && i != 8) kept += f[i] + ",";
      kept += "\n";
    }
    return kept;
  }

  fs::path dir;
  RunSettings settings;
};

TEST_F(TrainingRunTest, StoppedAtAnyStepAndResumedGivesTheSameBytes) {
  std::unique_ptr<TrainingRun> whole = TrainingRun::start(settings, controls("whole"));
  int epochs_seen = 0;
  ASSERT_EQ(whole->run({nullptr, [&](const EpochReport& e) { return ++epochs_seen == e.epoch; }, nullptr}), RunEnd::complete);
  EXPECT_EQ(epochs_seen, 3);
  EXPECT_EQ(whole->history().size(), 3u);
  EXPECT_EQ(whole->train_images(), 320);
  EXPECT_EQ(whole->valid_images(), 80);
  EXPECT_EQ(whole->steps_per_epoch(), 10);
  EXPECT_GT(whole->history().back().point.test_acc, 0.5) << "the squares are not being learned";

  // Stopped in epoch 2 (one process on micro-batch workers stops right after the step the stop
  // is seen at: step 4), and again after epoch 2 (the epoch callback), each time going on in a
  // new TrainingRun that reads the saved file.
  int64_t steps = 0;
  std::unique_ptr<TrainingRun> first = TrainingRun::start(settings, controls("parts"));
  RunCallbacks stop_at_step;
  stop_at_step.on_step = [&](const StepReport&) { ++steps; };
  stop_at_step.stop_requested = [&] { return steps >= 14; };
  ASSERT_EQ(first->run(stop_at_step), RunEnd::stopped);
  EXPECT_EQ(first->state().epoch, 2);
  EXPECT_EQ(first->state().partial.steps_done, 4);
  first.reset();
  std::unique_ptr<TrainingRun> second = TrainingRun::resume(controls("parts"));
  EXPECT_EQ(second->state().partial.steps_done, 4);
  ASSERT_EQ(second->run({nullptr, [](const EpochReport& e) { return e.epoch != 2; }, nullptr}), RunEnd::stopped);
  EXPECT_EQ(second->state().epoch, 3);
  second.reset();
  std::unique_ptr<TrainingRun> third = TrainingRun::resume(controls("parts"));
  EXPECT_EQ(third->history().size(), 2u);
  ASSERT_EQ(third->run(), RunEnd::complete);

  const std::string a = controls("whole").out, b = controls("parts").out;
  EXPECT_EQ(bytes(a + "/model.inkw"), bytes(b + "/model.inkw"));
  EXPECT_EQ(bytes(a + "/best.inkw"), bytes(b + "/best.inkw"));
  EXPECT_EQ(metrics(a), metrics(b));
  EXPECT_EQ(bytes(a + "/confusion.csv"), bytes(b + "/confusion.csv"));
  // Resuming a complete run has nothing to do.
  EXPECT_TRUE(TrainingRun::resume(controls("whole"))->complete());
}

// Micro-batch workers (step_workers.hpp): the same bytes with any thread count, and batch norm
// (rows coupled) trains on one team.
TEST_F(TrainingRunTest, AnyThreadCountGivesTheSameBytes) {
  settings.epochs = 1;
  settings.batch = 36;  // not a multiple of the micro-batch: the last one is padded
  std::vector<std::vector<uint8_t>> models;
  for (int threads : {1, 2, 3}) {
    RunControls c = controls("threads" + std::to_string(threads));
    c.threads = threads;
    ASSERT_EQ(TrainingRun::start(settings, c)->run(), RunEnd::complete);
    models.push_back(bytes(c.out + "/model.inkw"));
  }
  EXPECT_EQ(models[0], models[1]);
  EXPECT_EQ(models[0], models[2]);
  EXPECT_TRUE(trains_on_micro_batches({settings.model, {1, 28, 28}}));
  EXPECT_FALSE(trains_on_micro_batches({"conv4k3-bn-relu-maxpool2-fc10", {1, 28, 28}}));
}

TEST_F(TrainingRunTest, SettingsThatDoNotFitAreSettingsErrors) {
  RunSettings s = settings;
  s.valid = {0, 400, 0};  // every training image
  EXPECT_THROW(TrainingRun::start(s, controls("a")), SettingsError);
  s.valid = {0, 0, 0};  // keep_best with nothing to choose by
  EXPECT_THROW(TrainingRun::start(s, controls("b")), SettingsError);
  s = settings;
  s.data = (dir / "no-such-data").string();
  try {
    TrainingRun::start(s, controls("c"));
    ADD_FAILURE() << "a missing --data was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-data: neither a dataset name"), std::string::npos) << e.what();
  }
}

TEST_F(TrainingRunTest, AnUnfinishedRunIsNotOverwrittenUnlessForced) {
  std::unique_ptr<TrainingRun> t = TrainingRun::start(settings, controls("run"));
  ASSERT_EQ(t->run({nullptr, [](const EpochReport&) { return false; }, nullptr}), RunEnd::stopped);
  t.reset();
  try {
    TrainingRun::start(settings, controls("run"));
    ADD_FAILURE() << "an unfinished run was overwritten";
  } catch (const SettingsError& e) {
    EXPECT_NE(std::string(e.what()).find("holds an unfinished run (epoch 2 of 3)"), std::string::npos) << e.what();
  }
  RunControls forced = controls("run");
  forced.force = true;
  EXPECT_EQ(TrainingRun::start(settings, forced)->state().epoch, 1);
}

}  // namespace
}  // namespace inkwell
