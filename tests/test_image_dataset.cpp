// Datasets from PNG trees and CSV manifests, and training on one.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "inkwell/core/error.hpp"
#include "inkwell/data/image_dataset.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/train/optimizer.hpp"
#include "inkwell/train/train.hpp"
#include "inkwell/data/variants.hpp"

namespace inkwell {
namespace {

namespace fs = std::filesystem;

// Three easy classes: a vertical bar, a horizontal bar, a cross; position and style vary.
MnistImage glyph(int cls, int i) {
  MnistImage d{};
  const int at = 10 + i % 8;
  for (int k = 6; k < 22; ++k) {
    if (cls != 1) d[k * 28 + at] = d[k * 28 + at + 1] = 255;
    if (cls != 0) d[at * 28 + k] = d[(at + 1) * 28 + k] = 255;
  }
  return d;
}

class ImageDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("inkwell_imgds_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    Rng rng(4);
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 60; ++i) write(root / "tree" / names[c] / (std::to_string(i) + ".png"), glyph(c, i), random_variant(rng));
  }
  void TearDown() override { fs::remove_all(root); }
  void write(const fs::path& p, const MnistImage& img, const Variant& v) {
    fs::create_directories(p.parent_path());
    const auto png = render_png(img, v);
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  }
  fs::path root;
  const std::vector<std::string> names = {"bar", "dash", "plus"};
};

TEST_F(ImageDatasetTest, LoadsAnImageFolderTree) {
  const Dataset d = load_image_folder((root / "tree").string(), {});
  EXPECT_EQ(d.classes, names);
  EXPECT_EQ(d.size(), 180);
  EXPECT_EQ(d.rows, 28);
  EXPECT_EQ(d.labels.front(), 0);
  EXPECT_EQ(d.labels.back(), 2);
  const Normalization n = measure_normalization(d);
  EXPECT_GT(n.mean, 0.02f);
  EXPECT_LT(n.mean, 0.5f);
  EXPECT_GT(n.std, 0.05f);
}

// Files are decoded by the training pipeline: a bad one stops training with an error naming it,
// thrown out of the flow graph; --skip-bad decodes everything while loading and leaves it out.
TEST_F(ImageDatasetTest, BadFilesStopTrainingWithTheirNameOrAreSkipped) {
  std::ofstream(root / "tree" / "dash" / "broken.png") << "not a png";
  const Dataset d = load_image_folder((root / "tree").string(), {});
  ASSERT_EQ(d.size(), 181);
  Model model(Architecture{"fc3", {1, 28, 28}}, 8, Mode::train);
  model.init_params(0);
  Optimizer opt({OptimizerConfig::Kind::adam}, model.params().size());
  std::vector<uint32_t> order(d.size());
  std::iota(order.begin(), order.end(), 0u);
  for (int prefetch : {0, 4}) {
    EpochState st;
    try {
      train_epoch(model, opt, d, order, {}, {}, st, {.prefetch = prefetch});
      ADD_FAILURE() << "a bad file was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("broken.png: not a PNG or JPEG file"), std::string::npos) << e.what();
    }
    EXPECT_LT(st.images, 181);
  }
  ImageLoadOptions skip;
  skip.skip_bad = true;
  ImageLoadReport report;
  EXPECT_EQ(load_image_folder((root / "tree").string(), skip, &report).size(), 180);
  EXPECT_EQ(report.skipped, 1);
  ASSERT_EQ(report.errors.size(), 1u);
}

TEST_F(ImageDatasetTest, ManifestMatchesTheTreeAndReportsBadLines) {
  std::ofstream csv(root / "tree" / "all.csv");
  csv << "path,label\n";
  for (const auto& c : names)
    for (int i = 0; i < 60; ++i) csv << c << "/" << i << ".png," << c << "\n";
  csv.close();
  const Dataset a = load_manifest((root / "tree" / "all.csv").string(), {});
  const Dataset b = load_image_folder((root / "tree").string(), {});
  EXPECT_EQ(a.classes, b.classes);
  EXPECT_EQ(a.labels, b.labels);
  auto sorted = [](std::vector<std::string> v) { std::sort(v.begin(), v.end()); return v; };
  EXPECT_EQ(sorted(a.files), sorted(b.files));  // the manifest's order is its own

  std::ofstream(root / "bad.csv") << "path,label\nnocomma\n";
  EXPECT_THROW(load_manifest((root / "bad.csv").string(), {}), Error);
  std::ofstream(root / "unknown.csv") << "path,label\ntree/bar/0.png,bar\n";
  ImageLoadOptions two;
  two.classes = {"dash", "plus"};
  EXPECT_THROW(load_manifest((root / "unknown.csv").string(), two), Error);  // "bar" not a class
}

// Manifests as spreadsheets save them (BOM, CRLF, quoted fields with commas and line breaks)
// give the same dataset; every malformed one names its line; no label a loader would later
// refuse gets into a model; a row naming a FIFO is an error, not a hang.
TEST_F(ImageDatasetTest, ManifestsAreRealCsvAndHostileOnesAreRefused) {
  fs::copy_file(root / "tree" / "bar" / "0.png", root / "tree" / "bar" / "a, \"quoted\"\nname.png");
  auto manifest = [&](const std::string& name, const std::string& text) {
    std::ofstream(root / "tree" / name, std::ios::binary) << text;
    return (root / "tree" / name).string();
  };
  const Dataset d = load_manifest(manifest("excel.csv", "\xEF\xBB\xBFpath,label\r\n\"bar/a, \"\"quoted\"\"\nname.png\",bar\r\n"
                                                        "dash/0.png,dash\r\n\r\n"), {});
  EXPECT_EQ(d.classes, (std::vector<std::string>{"bar", "dash"}));  // no "dash\r"
  ASSERT_EQ(d.files.size(), 2u);
  EXPECT_EQ(fs::path(d.files[0]).filename(), "a, \"quoted\"\nname.png");
  std::vector<uint8_t> scratch;
  EXPECT_NO_THROW(d.read(0, scratch));

  auto expect_error = [&](const std::string& path, const std::string& what) {
    try {
      load_manifest(path, {});
      ADD_FAILURE() << "accepted " << path;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error(manifest("extra.csv", "path,label\nbar/0.png,bar,x\n"), "extra.csv:2: expected 2 fields (path,label), got 3");
  expect_error(manifest("header.csv", "file,class\nbar/0.png,bar\n"), "header.csv:1: expected the header line 'path,label'");
  expect_error(manifest("quote.csv", "path,label\n\"bar/0.png,bar\n"), "quote.csv:2: unterminated quoted field");
  expect_error(manifest("long.csv", "path,label\nbar/0.png," + std::string(5 << 20, 'x') + "\n"), "over the 256-byte limit");
  expect_error(manifest("control.csv", "path,label\nbar/0.png,\"b\ta\"\n"), "control character");
  ASSERT_EQ(mkfifo((root / "tree" / "pipe.png").c_str(), 0600), 0);
  const Dataset piped = load_manifest(manifest("fifo.csv", "path,label\npipe.png,bar\ndash/0.png,dash\n"), {});
  try {
    piped.read(0, scratch);
    ADD_FAILURE() << "read a FIFO";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file (a FIFO)"), std::string::npos) << e.what();
  }
}

TEST_F(ImageDatasetTest, TestTreeWithAnUnknownClassIsRefused) {
  ImageLoadOptions opts;
  opts.classes = {"bar", "dash"};
  EXPECT_THROW(load_image_folder((root / "tree").string(), opts), Error);  // "plus" is not among them
}

TEST_F(ImageDatasetTest, SeededSplitAndAShortTrainingRun) {
  const Dataset all = load_image_folder((root / "tree").string(), {});
  const auto [train, test] = split_dataset(all, 0.25, 1);
  EXPECT_EQ(test.size(), 45);
  EXPECT_EQ(train.size(), 135);
  EXPECT_EQ(split_dataset(all, 0.25, 1).second.labels, test.labels);

  Model model(Architecture{"conv8k5p2-relu-maxpool2-conv16k5p2-relu-maxpool2-fc3", {1, 28, 28}}, 16, Mode::train);
  Model eval(model.architecture(), 45, Mode::infer);
  model.init_params(0);
  Optimizer opt({OptimizerConfig::Kind::adam}, model.params().size());
  const Normalization norm = measure_normalization(train);
  std::vector<uint32_t> order(train.size()), test_idx(test.size());
  std::iota(order.begin(), order.end(), 0u);
  std::iota(test_idx.begin(), test_idx.end(), 0u);
  for (int epoch = 0; epoch < 8; ++epoch) {
    EpochState st;
    ASSERT_TRUE(train_epoch(model, opt, train, order, norm, {Schedule::constant, 3e-3, 72}, st));
  }
  eval.load_state(model.state());
  const Metrics m = evaluate(eval, test, test_idx, norm);
  std::printf("3-class PNG tree: held-out accuracy %.3f\n", m.accuracy);
  EXPECT_GE(m.accuracy, 0.9);
}

}  // namespace
}  // namespace inkwell
