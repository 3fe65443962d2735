// Fine-tuning: tensors copied where name and shape match, and frozen layers left untouched by
// the optimizer while the others move.
#include <gtest/gtest.h>

#include <algorithm>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/train/fine_tune.hpp"
#include "inkwell/train/optimizer.hpp"

namespace inkwell {
namespace {

const Architecture kDigits{"conv8k5p2-relu-maxpool2-conv16k5p2-relu-maxpool2-fc10", {1, 28, 28}};
const Architecture kLetters{"conv8k5p2-relu-maxpool2-conv16k5p2-relu-maxpool2-fc26", {1, 28, 28}};

const NamedTensor& find(const std::vector<NamedTensor>& state, const std::string& name) {
  return *std::find_if(state.begin(), state.end(), [&](const NamedTensor& t) { return t.name == name; });
}

TEST(FineTune, CopiesMatchingTensorsAndKeepsTheOthersInitialised) {
  Model digits(kDigits, 4, Mode::infer);
  digits.init_params(1);
  ModelFile from;
  from.architecture = kDigits;
  from.tensors = digits.state();
  Model letters(kLetters, 4, Mode::train);
  letters.init_params(2);
  const std::vector<NamedTensor> before = letters.state();
  const CopiedTensors copy = copy_matching_tensors(from, letters);
  EXPECT_EQ(copy.copied, 4u);
  EXPECT_EQ(copy.fresh, (std::vector<std::string>{"fc1.weights", "fc1.bias"}));
  const std::vector<NamedTensor> after = letters.state();
  for (const char* name : {"conv1.weights", "conv1.bias", "conv2.weights", "conv2.bias"})
    EXPECT_EQ(find(after, name).data, find(from.tensors, name).data) << name;
  EXPECT_EQ(find(after, "fc1.weights").data, find(before, "fc1.weights").data);  // 26 outputs, not 10: its own
}

TEST(FineTune, FrozenLayersDoNotMoveTheOthersDo) {
  for (const auto kind : {OptimizerConfig::Kind::adam, OptimizerConfig::Kind::adamw, OptimizerConfig::Kind::sgd}) {
    Model m(kLetters, 4, Mode::train);
    m.init_params(3);
    ParamArena& arena = m.params();
    const size_t prefix = frozen_floats(arena, 1);
    const Param& conv1_bias = *std::find_if(arena.params().begin(), arena.params().end(), [](const Param& p) { return p.name == "conv1.bias"; });
    EXPECT_EQ(prefix, std::max(arena.params()[0].offset + arena.params()[0].size, conv1_bias.offset + conv1_bias.size));
    Optimizer opt({kind, 1e-2}, arena.size());
    opt.freeze_prefix(prefix);
    const std::vector<NamedTensor> before = m.state();
    std::fill(arena.grads(), arena.grads() + arena.size(), 0.5f);
    for (int i = 0; i < 3; ++i) opt.step(arena, 1e-2);
    const std::vector<NamedTensor> after = m.state();
    EXPECT_EQ(find(after, "conv1.weights").data, find(before, "conv1.weights").data);
    EXPECT_EQ(find(after, "conv1.bias").data, find(before, "conv1.bias").data);
    EXPECT_NE(find(after, "conv2.weights").data, find(before, "conv2.weights").data);
    EXPECT_NE(find(after, "fc1.bias").data, find(before, "fc1.bias").data);
  }
  Model m(kLetters, 4, Mode::train);
  EXPECT_GT(frozen_floats(m.params(), 2), frozen_floats(m.params(), 1));
  EXPECT_THROW(frozen_floats(m.params(), 3), Error);  // conv1, conv2, fc1: nothing left to train
}

}  // namespace
}  // namespace inkwell
