#include "inkwell/nn/spec.hpp"

#include <cctype>
#include <map>
#include <sstream>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/layer_kinds.hpp"

namespace inkwell {

namespace {

const std::map<std::string, std::string>& presets() {
  static const std::map<std::string, std::string> table = {
      // The PyTorch notebook's model (shared/design/targets.md).
      {"seed", "conv16k5p2-relu-maxpool2-conv32k5p2-relu-maxpool2-fc10"},
      // Half the channels: 1.6 MFLOP a forward pass instead of 5.7 (the default classifier).
      {"fast", "conv8k5p2-relu-maxpool2-conv16k5p2-relu-maxpool2-fc10"},
      // Two blocks of two 3x3 convs with batch norm, a dropout-regularised hidden layer: 38 MFLOP
      // a forward pass. Trained with its recipe (recipe.hpp); docs/decisions.md has its runs.
      {"best", "conv32k3p1-bn-relu-conv32k3p1-bn-relu-maxpool2-conv64k3p1-bn-relu-conv64k3p1-bn-relu-maxpool2-"
               "fc256-relu-dropout40-fc10"},
  };
  return table;
}

// Reads a positive integer at s[pos...], advancing pos.
int64_t read_int(const std::string& token, const std::string& s, size_t& pos) {
  size_t end = pos;
  while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
  if (end == pos || end - pos > 6) throw error("model spec: bad number in layer '", token, "'");
  const int64_t v = std::stoll(s.substr(pos, end - pos));
  pos = end;
  return v;
}

// The kinds' tokens, for messages: "conv, maxpool, avgpool, fc, relu, bn or dropout".
std::string kind_list() {
  std::string out;
  const auto kinds = layer_kinds();
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (i > 0) out += i + 1 == kinds.size() ? " or " : ", ";
    out += kinds[i].token;
  }
  return out;
}

LayerSpec parse_layer(const std::string& token) {
  const LayerKind* kind = nullptr;  // the kind whose token starts this one (the longest such)
  for (const LayerKind& k : layer_kinds()) {
    const std::string t = k.token;
    const bool match = k.number == SpecNumber::none ? token == t : token.rfind(t, 0) == 0;
    if (match && (!kind || t.size() > std::string(kind->token).size())) kind = &k;
  }
  if (!kind) throw error("model spec: unknown layer '", token, "' (expected ", kind_list(), ")");
  LayerSpec layer{};
  layer.kind = kind->kind;
  size_t pos = std::string(kind->token).size();
  if (kind->number == SpecNumber::kernel) layer.kernel = layer.stride = read_int(token, token, pos);
  else if (kind->number != SpecNumber::none) layer.out = read_int(token, token, pos);
  // Optional suffixes: letter followed by a number, e.g. k5, p2, s1.
  const std::string allowed = kind->suffixes;
  while (pos < token.size()) {
    const char key = token[pos++];
    if (allowed.find(key) == std::string::npos) throw error("model spec: unexpected '", key, "' in layer '", token, "'");
    const int64_t v = read_int(token, token, pos);
    if (key == 'k') layer.kernel = v;
    if (key == 'p') layer.pad = v;
    if (key == 's') layer.stride = v;
  }
  if (kind->number == SpecNumber::percent && (layer.out < 1 || layer.out > 99))
    throw error("model spec: ", kind->token, " '", token, "' needs a percentage from 1 to 99");
  if (allowed.find('k') != std::string::npos && layer.kernel == 0)
    throw error("model spec: ", kind->token, " layer '", token, "' needs a kernel size, e.g. ", kind->token, "16k5");
  if (kind->number == SpecNumber::out && layer.out < 1) throw error("model spec: layer '", token, "' needs at least one output");
  if ((allowed.find('k') != std::string::npos || kind->number == SpecNumber::kernel) &&
      (layer.kernel < 1 || layer.stride < 1 || layer.pad >= layer.kernel))
    throw error("model spec: layer '", token, "' needs kernel >= 1, stride >= 1 and padding < kernel");
  if (layer.out > kMaxSpecWidth) throw error("model spec: layer '", token, "' has over ", kMaxSpecWidth, " outputs");
  if (layer.kernel > kMaxSpecKernel || layer.stride > kMaxSpecKernel)
    throw error("model spec: layer '", token, "' has a kernel or stride over ", kMaxSpecKernel);
  return layer;
}

}  // namespace

std::vector<LayerSpec> parse_spec(const std::string& spec) {
  std::vector<LayerSpec> layers;
  std::stringstream in(spec);
  std::string token;
  while (std::getline(in, token, '-')) {
    if (token.empty()) throw error("model spec '", spec, "': empty layer");
    layers.push_back(parse_layer(token));
  }
  if (layers.empty()) throw error("model spec is empty");
  if (layers.size() > kMaxSpecLayers) throw error("model spec has ", layers.size(), " layers, over ", kMaxSpecLayers);
  return layers;
}

std::vector<std::string> layer_names(const std::vector<LayerSpec>& layers) {
  std::map<LayerSpec::Kind, int> counts;
  std::vector<std::string> names;
  for (const LayerSpec& l : layers) names.push_back(layer_kind(l.kind).prefix + std::to_string(++counts[l.kind]));
  return names;
}

std::vector<std::string> parameter_layer_names(const std::vector<LayerSpec>& layers) {
  std::vector<std::string> names = layer_names(layers);
  for (size_t i = 0; i < layers.size(); ++i)
    if (!layer_kind(layers[i].kind).parameters) names[i].clear();
  return names;
}

std::vector<NamedDims> state_shapes(const Architecture& arch) { return describe(arch).state; }

ArchitectureShapes describe(const Architecture& arch) {
  if (arch.input.size() != 3) throw error("model input must be (C, H, W), got ", to_string(arch.input));
  for (int64_t d : arch.input)
    if (d < 1 || d > kMaxSpecWidth) throw error("model input ", to_string(arch.input), " is out of range");
  Dims shape = arch.input;  // one image: (C, H, W), or (C) after an fc
  std::vector<NamedDims> params, buffers;
  std::vector<LayerSummary> layers;
  int64_t elements = 0;
  auto add = [&](std::vector<NamedDims>& list, std::string name, Dims dims) {
    elements += element_count(dims);
    if (elements > kMaxSpecParameters) throw error("model spec '", arch.spec, "' has over ", kMaxSpecParameters, " parameters");
    list.push_back({std::move(name), std::move(dims)});
  };
  const std::vector<LayerSpec> specs = parse_spec(arch.spec);
  const std::vector<std::string> names = parameter_layer_names(specs);
  for (size_t i = 0; i < specs.size(); ++i) {
    const LayerSpec& l = specs[i];
    const std::string& name = names[i];
    const size_t params_before = params.size();
    const LayerKind& kind = layer_kind(l.kind);
    const Dims in = shape;
    shape = kind.output(l, in, arch.spec);
    LayerTensors tensors = kind.tensors(l, in, name);
    for (NamedDims& t : tensors.parameters) add(params, std::move(t.name), std::move(t.dims));
    for (NamedDims& t : tensors.buffers) add(buffers, std::move(t.name), std::move(t.dims));
    const double flops = kind.flops(l, in, shape);
    if (element_count(shape) > kMaxSpecActivations)
      throw error("model spec '", arch.spec, "': one image's activations ", to_string(shape), " are over ",
                  kMaxSpecActivations, " values");
    int64_t layer_params = 0;
    for (size_t i = params_before; i < params.size(); ++i) layer_params += element_count(params[i].dims);
    layers.push_back({to_string(l), shape, layer_params, flops});
  }
  params.insert(params.end(), buffers.begin(), buffers.end());
  return {params, layers};
}

std::string to_string(const LayerSpec& layer) {
  const LayerKind& kind = layer_kind(layer.kind);
  std::ostringstream out;
  out << kind.token;
  if (kind.number == SpecNumber::kernel) out << layer.kernel;
  else if (kind.number != SpecNumber::none) out << layer.out;
  const std::string suffixes = kind.suffixes;
  if (suffixes.find('k') != std::string::npos) out << 'k' << layer.kernel;
  if (suffixes.find('p') != std::string::npos && layer.pad) out << 'p' << layer.pad;
  const int64_t default_stride = kind.number == SpecNumber::kernel ? layer.kernel : 1;
  if (suffixes.find('s') != std::string::npos && layer.stride != default_stride) out << 's' << layer.stride;
  return out.str();
}

std::string resolve_spec(const std::string& name_or_spec) {
  const auto it = presets().find(name_or_spec);
  const std::string spec = it != presets().end() ? it->second : name_or_spec;
  parse_spec(spec);  // validates
  return spec;
}

std::vector<std::string> preset_names() { return {"seed", "fast", "best"}; }

std::string with_outputs(const std::string& spec, int64_t outputs) {
  std::vector<LayerSpec> layers = parse_spec(spec);
  if (layers.back().kind != LayerSpec::Kind::fc) throw error("model spec '", spec, "' does not end with an fc layer");
  layers.back().out = outputs;
  std::string out;
  for (const LayerSpec& l : layers) {
    if (!out.empty()) out += '-';
    out += to_string(l);
  }
  return out;
}

}  // namespace inkwell
