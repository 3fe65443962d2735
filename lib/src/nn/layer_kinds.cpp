#include "inkwell/nn/layer_kinds.hpp"

#include <array>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/avg_pool.hpp"
#include "inkwell/nn/batch_norm.hpp"
#include "inkwell/nn/conv.hpp"
#include "inkwell/nn/dropout.hpp"
#include "inkwell/nn/inner_product.hpp"
#include "inkwell/nn/max_pool.hpp"
#include "inkwell/nn/relu.hpp"

namespace inkwell {

namespace {

using Kind = LayerSpec::Kind;

// The kinds that keep their input's shape, and hold nothing.
Dims same(const LayerSpec&, const Dims& in, const std::string&) { return in; }
LayerTensors no_tensors(const LayerSpec&, const Dims&, const std::string&) { return {}; }
double no_flops(const LayerSpec&, const Dims&, const Dims&) { return 0; }

// A KxK window with stride S over (C, H, W), padded by P (pools: 0): the output's H and W.
Dims windowed(const LayerSpec& l, const Dims& in, const std::string& spec, int64_t channels) {
  if (in.size() != 3) throw error("model spec '", spec, "': ", to_string(l), " needs a (C, H, W) input");
  if (in[1] + 2 * l.pad < l.kernel || in[2] + 2 * l.pad < l.kernel)
    throw error("model spec '", spec, "': ", to_string(l), " does not fit a ", in[1], "x", in[2], " input");
  return {channels, window_output_size(in[1], l.kernel, l.pad, l.stride), window_output_size(in[2], l.kernel, l.pad, l.stride)};
}
Dims pool_output(const LayerSpec& l, const Dims& in, const std::string& spec) { return windowed(l, in, spec, in.at(0)); }

const LayerKind kConv{
    Kind::conv, "conv", SpecNumber::out, "kps", "conv", true, true, true, false, true, false,
    [](const LayerSpec& l, const Dims& in, const std::string& spec) { return windowed(l, in, spec, l.out); },
    [](const LayerSpec& l, const Dims& in, const std::string& name) {
      return LayerTensors{{{name + ".weights", {l.out, in[0], l.kernel, l.kernel}}, {name + ".bias", {l.out}}}, {}};
    },
    [](const LayerSpec& l, const Dims& in, const Dims& out) {
      return 2.0 * static_cast<double>(element_count(out)) * static_cast<double>(in[0] * l.kernel * l.kernel);
    },
    [](const LayerSpec& l, const LayerBuild& b) -> std::unique_ptr<Layer> {
      return std::make_unique<Conv>(b.name, l.out, l.kernel, l.pad, l.stride, b.relu, b.relu_backward_next);
    }};

const LayerKind kMaxPool{
    Kind::maxpool, "maxpool", SpecNumber::kernel, "s", "pool", false, true, false, true, false, true, pool_output, no_tensors,
    no_flops, [](const LayerSpec& l, const LayerBuild& b) -> std::unique_ptr<Layer> {
      return std::make_unique<MaxPool>(b.name, l.kernel, l.stride, b.after_relu);
    }};

const LayerKind kAvgPool{
    Kind::avgpool, "avgpool", SpecNumber::kernel, "s", "avgpool", false, true, false, false, false, false, pool_output,
    no_tensors, no_flops, [](const LayerSpec& l, const LayerBuild& b) -> std::unique_ptr<Layer> {
      return std::make_unique<AvgPool>(b.name, l.kernel, l.stride);
    }};

const LayerKind kFc{
    Kind::fc, "fc", SpecNumber::out, "", "fc", true, true, true, false, true, false,
    [](const LayerSpec& l, const Dims&, const std::string&) { return Dims{l.out}; },
    [](const LayerSpec& l, const Dims& in, const std::string& name) {
      Dims weights = in;  // (OUT, C, H, W) over the flattened input, or (OUT, F)
      weights.insert(weights.begin(), l.out);
      return LayerTensors{{{name + ".weights", weights}, {name + ".bias", {l.out}}}, {}};
    },
    [](const LayerSpec& l, const Dims& in, const Dims&) {
      return 2.0 * static_cast<double>(element_count(in)) * static_cast<double>(l.out);
    },
    [](const LayerSpec& l, const LayerBuild& b) -> std::unique_ptr<Layer> {
      return std::make_unique<InnerProduct>(b.name, l.out, b.relu);
    }};

const LayerKind kRelu{Kind::relu, "relu", SpecNumber::none, "", "relu", false, false, false, false, false, false, same,
                      no_tensors, no_flops, [](const LayerSpec&, const LayerBuild& b) -> std::unique_ptr<Layer> {
                        return std::make_unique<Relu>(b.name);
                      }};

const LayerKind kBn{
    Kind::bn, "bn", SpecNumber::none, "", "bn", true, false, true, false, false, false, same,
    [](const LayerSpec&, const Dims& in, const std::string& name) {
      return LayerTensors{{{name + ".scale", {in[0]}}, {name + ".shift", {in[0]}}},
                          {{name + ".running_mean", {in[0]}}, {name + ".running_var", {in[0]}}}};
    },
    no_flops, [](const LayerSpec&, const LayerBuild& b) -> std::unique_ptr<Layer> {
      return std::make_unique<BatchNorm>(b.name, b.relu);
    }};

const LayerKind kDropout{Kind::dropout, "dropout", SpecNumber::percent, "", "dropout", false, false, false, false, false, false,
                         same, no_tensors, no_flops,
                         [](const LayerSpec& l, const LayerBuild& b) -> std::unique_ptr<Layer> {
                           return std::make_unique<Dropout>(b.name, static_cast<int>(l.out));
                         }};

const std::array<LayerKind, 7> kKinds{kConv, kMaxPool, kAvgPool, kFc, kRelu, kBn, kDropout};

}  // namespace

std::span<const LayerKind> layer_kinds() { return kKinds; }

bool relu_fused_into(const std::vector<LayerSpec>& specs, size_t i) {
  return i + 1 < specs.size() && layer_kind(specs[i].kind).fuses_relu && specs[i + 1].kind == Kind::relu;
}

const LayerKind& layer_kind(LayerSpec::Kind kind) {
  for (const LayerKind& k : kKinds)
    if (k.kind == kind) return k;
  throw error("no layer kind ", static_cast<int>(kind));  // unreachable: every Kind has a row (tested)
}

}  // namespace inkwell
