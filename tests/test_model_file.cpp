// Model files: round trip, and every kind of damage detected with a clear message.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cmath>
#include <limits>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "inkwell/model_file/model_file.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/nn/model.hpp"

namespace inkwell {
namespace {

namespace fs = std::filesystem;

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("inkwell_ckpt_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir);
    path = (dir / "model.inkw").string();
    file.architecture = {"conv4k3p1-relu-maxpool2-fc3", {1, 6, 6}};
    file.classes = {"x", "y", "z"};
    file.normalization = {0.25f, 0.5f};
    Model m(file.architecture, 2, Mode::infer);
    m.init_params(3);
    file.tensors = m.state();
    file.optimizer = {{"conv1.weights.m", {4, 1, 3, 3}, std::vector<float>(36, 0.5f)}};
    file.meta = {{"epoch", "3"}, {"optimizer", "adam"}};
  }
  void TearDown() override { fs::remove_all(dir); }
  std::vector<char> bytes() {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void rewrite(const std::vector<char>& b) { std::ofstream(path, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size())); }
  void expect_load_error(const std::string& what) {
    try {
      load_model_file(path);
      ADD_FAILURE() << "loaded a damaged file";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  }
  fs::path dir;
  std::string path;
  ModelFile file;
};

TEST_F(ModelFileTest, RoundTripsEverythingAndLeavesNoTemporaryFiles) {
  save_model_file(path, file);
  const ModelFile back = load_model_file(path);
  EXPECT_EQ(back.architecture.spec, file.architecture.spec);
  EXPECT_EQ(back.architecture.input, file.architecture.input);
  EXPECT_EQ(back.classes, file.classes);
  EXPECT_EQ(back.normalization.mean, 0.25f);
  EXPECT_EQ(back.normalization.std, 0.5f);
  EXPECT_EQ(back.meta, file.meta);
  ASSERT_EQ(back.tensors.size(), file.tensors.size());
  for (size_t i = 0; i < back.tensors.size(); ++i) {
    EXPECT_EQ(back.tensors[i].name, file.tensors[i].name);
    EXPECT_EQ(back.tensors[i].dims, file.tensors[i].dims);
    EXPECT_EQ(back.tensors[i].data, file.tensors[i].data);
  }
  EXPECT_EQ(back.optimizer[0].data, file.optimizer[0].data);
  // The loaded weights drive a model to the same outputs.
  Model a(file.architecture, 2, Mode::infer), b(back.architecture, 2, Mode::infer);
  a.load_state(file.tensors);
  b.load_state(back.tensors);
  for (int i = 0; i < 72; ++i) a.src()[i] = b.src()[i] = static_cast<float>(i % 5) - 2;
  a.forward();
  b.forward();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(a.dst()[i], b.dst()[i]);
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
}

// The shipped models were written under oneDNN 2.6 (letters.inkw on AVX-512). Loaded into a model of either mode,
// whatever the oneDNN version and ISA (blocked layouts of 8 or 16 channels), their tensors come
// back out bit for bit: this runs in both CI legs and in the AVX2-capped pass.
TEST(ShippedModels, LoadBitForBitUnderThisOneDnnAndIsa) {
  for (const char* name : {"default.inkw", "accurate.inkw", "letters.inkw"}) {
    const ModelFile file = load_model_file(std::string(INKWELL_SOURCE_DIR) + "/models/" + name);
    for (const Mode mode : {Mode::infer, Mode::train}) {
      Model m(file.architecture, 3, mode);
      m.load_state(file.tensors);
      const auto back = m.state();
      ASSERT_EQ(back.size(), file.tensors.size()) << name;
      for (size_t i = 0; i < back.size(); ++i) EXPECT_EQ(back[i].data, file.tensors[i].data) << name << " " << back[i].name;
    }
  }
}

TEST_F(ModelFileTest, DetectsCorruptionTruncationAndWrongVersion) {
  save_model_file(path, file);
  const std::vector<char> good = bytes();

  std::vector<char> flipped = good;
  flipped[good.size() / 2] ^= 1;
  rewrite(flipped);
  expect_load_error("checksum mismatch");

  rewrite(std::vector<char>(good.begin(), good.end() - 10));
  expect_load_error("checksum mismatch");

  rewrite(std::vector<char>(good.begin(), good.begin() + 5));
  expect_load_error("not an inkwell model file");

  std::vector<char> version = good;
  version[8] = 7;
  rewrite(version);
  expect_load_error("model format version 7 is not supported");

  std::vector<char> magic = good;
  magic[0] = 'X';
  rewrite(magic);
  expect_load_error("bad magic");

  fs::remove(path);
  expect_load_error("cannot open");
}

// A file is distrusted until checked: sizes against the bytes really there, the spec against its
// bounds, every tensor against the spec, every value finite, and only then is a model built.
TEST_F(ModelFileTest, HostileFilesAreRefusedBeforeAnythingIsBuiltOrAllocated) {
  // A tensor declaring 2^28 floats (1 GiB), with a valid checksum over a few hundred bytes.
  ModelFile huge = file;
  huge.tensors[0].dims = {1 << 14, 1 << 14};
  save_model_file(path, huge);
  ASSERT_LT(fs::file_size(path), 2000u);
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  expect_load_error("truncated while reading tensor data");
  getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss, before.ru_maxrss + 64 * 1024) << "allocated for bytes that are not there";

  ModelFile wide = file;
  wide.architecture.spec = "fc999999";
  save_model_file(path, wide);
  expect_load_error("has over 65536 outputs");

  ModelFile other_spec = file;  // a valid spec, but not the one the tensors were made for
  other_spec.architecture.spec = "conv4k3p1-relu-maxpool2-fc60000";
  save_model_file(path, other_spec);
  expect_load_error("tensor 2 is fc1.weights 3x4x3x3, the spec needs fc1.weights 60000x4x3x3");

  ModelFile nan = file;
  nan.tensors[1].data[2] = std::nanf("");
  save_model_file(path, nan);
  expect_load_error("tensor conv1.bias holds nan at 2 (stored values must be finite and within ±");

  ModelFile huge_value = file;  // finite, but a forward pass would overflow to inf and NaN rows
  huge_value.tensors[0].data[0] = 3e38f;
  save_model_file(path, huge_value);
  expect_load_error("tensor conv1.weights holds 3e+38 at 0");

  ModelFile names = file;
  names.classes.pop_back();
  save_model_file(path, names);
  expect_load_error("the model has 3 outputs but 2 class names");

  for (const float std : {std::numeric_limits<float>::infinity(), 1e-45f, 0.f, -0.5f}) {
    ModelFile bad_norm = file;
    bad_norm.normalization.std = std;
    save_model_file(path, bad_norm);
    expect_load_error("normalisation mean 0.25 std ");
  }

  // Class names: each refused with its index, and never echoed raw when it may hold control bytes.
  for (const auto& [names, what] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"x", "", "z"}, "class 1: empty class name"},
           {{"x", "x", "z"}, "class 1 ('x') is given twice"},
           {{"x", "y\x1b[2J", "z"}, "class 1: a class name of 5 bytes holds a control character or is not valid UTF-8"},
           {{"x", std::string("y\0z", 3), "z"}, "class 1: a class name of 3 bytes holds a control character"},
           {{"x", "y\nz", "z"}, "class 1: a class name of 3 bytes holds a control character"},
           {{"x", "\xff\xfe", "z"}, "class 1: a class name of 2 bytes holds a control character or is not valid UTF-8"},
           {{"x", "\xc2\x9b", "z"}, "class 1: a class name of 2 bytes holds a control character"},  // C1 CSI
           {{"x", std::string(300, 'y'), "z"}, "class 1: class name of 300 bytes, over the 256-byte limit"}}) {
    ModelFile bad = file;
    bad.classes = names;
    save_model_file(path, bad);
    expect_load_error(what);
  }
  ModelFile accented = file;  // valid UTF-8 is a valid name
  accented.classes = {"\xc3\xa9", "\xe2\x82\xac", "z"};
  save_model_file(path, accented);
  EXPECT_EQ(load_model_file(path).classes, accented.classes);

  ModelFile not_fc = file;  // a feature map is not logits
  not_fc.architecture.spec = "conv3k3p1";
  Model conv(not_fc.architecture, 1, Mode::infer);
  conv.init_params(1);
  not_fc.tensors = conv.state();
  save_model_file(path, not_fc);
  expect_load_error("the spec 'conv3k3p1' does not end with an fc layer, as a classifier does");

  ModelFile bad_style = file;
  bad_style.meta["preprocessing"] = "sharpen";
  save_model_file(path, bad_style);
  expect_load_error("unknown preprocessing style 'sharpen' (expected mnist or emnist)");

  fs::remove(path);
  fs::create_directories(path);
  expect_load_error("not a regular file (a directory)");
}

// The shapes the loader checks files against are the ones a built model has.
TEST(StateShapes, MatchTheBuiltModels) {
  for (const std::string& spec : {resolve_spec("seed"), resolve_spec("best"), std::string("conv6k3p1s2-bn-relu-maxpool3s2-fc12-bn-relu-dropout30-fc5")}) {
    const Architecture arch{spec, {1, 28, 28}};
    const auto shapes = state_shapes(arch);
    const auto state = Model(arch, 2, Mode::train).state();
    ASSERT_EQ(shapes.size(), state.size()) << spec;
    for (size_t i = 0; i < state.size(); ++i) {
      EXPECT_EQ(shapes[i].name, state[i].name) << spec;
      EXPECT_EQ(shapes[i].dims, state[i].dims) << spec << " " << state[i].name;
    }
  }
  EXPECT_THROW(state_shapes({"conv8k5-maxpool2-conv8k13", {1, 28, 28}}), Error);  // 12x12 left for a 13x13 kernel
  EXPECT_THROW(state_shapes({"conv8192k3p1-fc10", {1, 28, 28}}), Error);  // 6.4M activations an image
}

TEST_F(ModelFileTest, MismatchedArchitectureIsRefused) {
  Model other({"conv5k3p1-relu-maxpool2-fc3", {1, 6, 6}}, 2, Mode::infer);
  try {
    other.load_state(file.tensors);
    ADD_FAILURE() << "loaded 4-channel weights into a 5-channel conv";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv1.weights"), std::string::npos) << e.what();
  }
}

TEST_F(ModelFileTest, KeepsTheOldFileWhenTheDirectoryIsGone) {
  const std::string nowhere = (dir / "no-such-dir" / "model.inkw").string();
  EXPECT_THROW(save_model_file(nowhere, file), Error);
}

}  // namespace
}  // namespace inkwell
