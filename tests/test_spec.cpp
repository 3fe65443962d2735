#include <gtest/gtest.h>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/layer_kinds.hpp"
#include "inkwell/nn/spec.hpp"

namespace inkwell {
namespace {

TEST(Spec, ParsesTheSeedPresetAndRoundTrips) {
  const std::string seed = resolve_spec("seed");
  const auto layers = parse_spec(seed);
  ASSERT_EQ(layers.size(), 7u);
  EXPECT_EQ(layers[0].kind, LayerSpec::Kind::conv);
  EXPECT_EQ(layers[0].out, 16);
  EXPECT_EQ(layers[0].kernel, 5);
  EXPECT_EQ(layers[0].pad, 2);
  EXPECT_EQ(layers[2].kind, LayerSpec::Kind::maxpool);
  EXPECT_EQ(layers[2].stride, 2);
  EXPECT_EQ(layers[6].out, 10);
  std::string joined;
  for (const auto& l : layers) {
    if (!joined.empty()) joined += '-';
    joined += to_string(l);
  }
  EXPECT_EQ(joined, seed);
}

TEST(Spec, StridesAndOverlappingPools) {
  const auto layers = parse_spec("conv8k3s2-maxpool3s2");
  EXPECT_EQ(layers[0].stride, 2);
  EXPECT_EQ(layers[0].pad, 0);
  EXPECT_EQ(layers[1].kernel, 3);
  EXPECT_EQ(layers[1].stride, 2);
}

TEST(Spec, StridesAndOverlappingPools_Average) {
  const auto layers = parse_spec("avgpool2-avgpool3s2");
  EXPECT_EQ(layers[0].kind, LayerSpec::Kind::avgpool);
  EXPECT_EQ(layers[0].stride, 2);
  EXPECT_EQ(layers[1].kernel, 3);
  EXPECT_EQ(layers[1].stride, 2);
  EXPECT_EQ(to_string(layers[0]), "avgpool2");
  EXPECT_EQ(to_string(layers[1]), "avgpool3s2");
}

// Every kind has its row in the table, and its token round-trips.
TEST(Spec, EveryKindHasOneRowOfTheTable) {
  const std::vector<std::string> specs = {"conv8k3p1s2", "maxpool3s2", "avgpool2", "fc10", "relu", "bn", "dropout30"};
  ASSERT_EQ(layer_kinds().size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto layers = parse_spec(specs[i]);
    ASSERT_EQ(layers.size(), 1u);
    EXPECT_EQ(&layer_kind(layers[0].kind), &layer_kinds()[i]) << specs[i];
    EXPECT_EQ(to_string(layers[0]), specs[i]);
  }
  // Shapes: a 3x9x9 input through each windowed kind.
  const auto shapes = describe({"conv8k3p1s2-avgpool2-maxpool2s1-fc10", {3, 9, 9}}).layers;
  EXPECT_EQ(shapes[0].output, (Dims{8, 5, 5}));
  EXPECT_EQ(shapes[1].output, (Dims{8, 2, 2}));
  EXPECT_EQ(shapes[2].output, (Dims{8, 1, 1}));
  EXPECT_EQ(shapes[3].output, (Dims{10}));
  EXPECT_EQ(shapes[3].parameters, 8 * 10 + 10);
  try {
    parse_spec("pool2");
    ADD_FAILURE() << "accepted pool2";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected conv, maxpool, avgpool, fc, relu, bn or dropout"), std::string::npos) << e.what();
  }
}

TEST(Spec, RejectsMalformedSpecsWithTheToken) {
  for (const char* bad : {"", "conv16", "conv16k5p5", "convk5", "fc", "fc10x", "pool2", "relu--fc10", "conv16k5q2",
                          "maxpool0", "fc99999999", "avgpool", "avgpool2p1", "avgpool0", "avgpool2k3"}) {
    try {
      parse_spec(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("model spec"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(resolve_spec("nonsense"), Error);
}

TEST(Spec, WithOutputsReplacesTheLastFc) {
  EXPECT_EQ(with_outputs(resolve_spec("seed"), 26), "conv16k5p2-relu-maxpool2-conv32k5p2-relu-maxpool2-fc26");
  EXPECT_EQ(with_outputs("fc128-relu-dropout30-fc10", 47), "fc128-relu-dropout30-fc47");
  EXPECT_THROW(with_outputs("conv8k3-relu", 26), Error);
}

TEST(Spec, ParsesBatchNormAndDropout) {
  const auto layers = parse_spec(resolve_spec("best"));
  EXPECT_EQ(layers[1].kind, LayerSpec::Kind::bn);
  EXPECT_EQ(to_string(layers[layers.size() - 2]), "dropout40");
  for (const char* bad : {"dropout", "dropout0", "dropout100", "bn2", "dropout5k3"}) EXPECT_THROW(parse_spec(bad), Error) << bad;
}

}  // namespace
}  // namespace inkwell
