#include "inkwell/nn/spec.hpp"

#include <cctype>
#include <map>
#include <sstream>

#include "inkwell/core/error.hpp"

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

LayerSpec parse_layer(const std::string& token) {
  auto starts = [&](const char* prefix) { return token.rfind(prefix, 0) == 0; };
  LayerSpec layer{};
  size_t pos = 0;
  // Optional suffixes: letter followed by a number, e.g. k5, p2, s1.
  auto suffixes = [&](const std::string& allowed) {
    while (pos < token.size()) {
      const char key = token[pos++];
      if (allowed.find(key) == std::string::npos) throw error("model spec: unexpected '", key, "' in layer '", token, "'");
      const int64_t v = read_int(token, token, pos);
      if (key == 'k') layer.kernel = v;
      if (key == 'p') layer.pad = v;
      if (key == 's') layer.stride = v;
    }
  };
  if (token == "relu") {
    layer.kind = LayerSpec::Kind::relu;
  } else if (token == "bn") {
    layer.kind = LayerSpec::Kind::bn;
  } else if (starts("dropout")) {
    layer.kind = LayerSpec::Kind::dropout;
    pos = 7;
    layer.out = read_int(token, token, pos);
    suffixes("");
    if (layer.out < 1 || layer.out > 99) throw error("model spec: dropout '", token, "' needs a percentage from 1 to 99");
  } else if (starts("conv")) {
    layer.kind = LayerSpec::Kind::conv;
    pos = 4;
    layer.out = read_int(token, token, pos);
    suffixes("kps");
    if (layer.kernel == 0) throw error("model spec: conv layer '", token, "' needs a kernel size, e.g. conv16k5");
  } else if (starts("maxpool")) {
    layer.kind = LayerSpec::Kind::maxpool;
    pos = 7;
    layer.kernel = read_int(token, token, pos);
    layer.stride = layer.kernel;
    suffixes("s");
  } else if (starts("fc")) {
    layer.kind = LayerSpec::Kind::fc;
    pos = 2;
    layer.out = read_int(token, token, pos);
    suffixes("");
  } else {
    throw error("model spec: unknown layer '", token, "' (expected conv, maxpool, fc, relu, bn or dropout)");
  }
  if ((layer.kind == LayerSpec::Kind::conv || layer.kind == LayerSpec::Kind::fc) && layer.out < 1)
    throw error("model spec: layer '", token, "' needs at least one output");
  if ((layer.kind == LayerSpec::Kind::conv || layer.kind == LayerSpec::Kind::maxpool) &&
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

std::vector<std::string> parameter_layer_names(const std::vector<LayerSpec>& layers) {
  int convs = 0, fcs = 0, bns = 0;
  std::vector<std::string> names;
  for (const LayerSpec& l : layers) {
    switch (l.kind) {
      case LayerSpec::Kind::conv: names.push_back("conv" + std::to_string(++convs)); break;
      case LayerSpec::Kind::fc: names.push_back("fc" + std::to_string(++fcs)); break;
      case LayerSpec::Kind::bn: names.push_back("bn" + std::to_string(++bns)); break;
      default: names.emplace_back();
    }
  }
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
    const int64_t inputs = element_count(shape);
    double flops = 0;
    switch (l.kind) {
      case LayerSpec::Kind::conv:
      case LayerSpec::Kind::maxpool: {
        if (shape.size() != 3) throw error("model spec '", arch.spec, "': ", to_string(l), " needs a (C, H, W) input");
        const int64_t pad = l.kind == LayerSpec::Kind::conv ? l.pad : 0;
        const int64_t h = (shape[1] + 2 * pad - l.kernel) / l.stride + 1, w = (shape[2] + 2 * pad - l.kernel) / l.stride + 1;
        if (shape[1] + 2 * pad < l.kernel || shape[2] + 2 * pad < l.kernel)
          throw error("model spec '", arch.spec, "': ", to_string(l), " does not fit a ", shape[1], "x", shape[2], " input");
        if (l.kind == LayerSpec::Kind::conv) {
          add(params, name + ".weights", {l.out, shape[0], l.kernel, l.kernel});
          add(params, name + ".bias", {l.out});
          flops = 2.0 * static_cast<double>(l.out * h * w) * static_cast<double>(shape[0] * l.kernel * l.kernel);
          shape[0] = l.out;
        }
        shape[1] = h, shape[2] = w;
        break;
      }
      case LayerSpec::Kind::fc: {
        Dims weights = shape;
        weights.insert(weights.begin(), l.out);
        add(params, name + ".weights", weights);
        add(params, name + ".bias", {l.out});
        flops = 2.0 * static_cast<double>(inputs) * static_cast<double>(l.out);
        shape = {l.out};
        break;
      }
      case LayerSpec::Kind::bn: {
        add(params, name + ".scale", {shape[0]});
        add(params, name + ".shift", {shape[0]});
        add(buffers, name + ".running_mean", {shape[0]});
        add(buffers, name + ".running_var", {shape[0]});
        break;
      }
      case LayerSpec::Kind::relu:
      case LayerSpec::Kind::dropout: break;
    }
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
  std::ostringstream out;
  switch (layer.kind) {
    case LayerSpec::Kind::relu: out << "relu"; break;
    case LayerSpec::Kind::bn: out << "bn"; break;
    case LayerSpec::Kind::dropout: out << "dropout" << layer.out; break;
    case LayerSpec::Kind::fc: out << "fc" << layer.out; break;
    case LayerSpec::Kind::maxpool:
      out << "maxpool" << layer.kernel;
      if (layer.stride != layer.kernel) out << 's' << layer.stride;
      break;
    case LayerSpec::Kind::conv:
      out << "conv" << layer.out << 'k' << layer.kernel;
      if (layer.pad) out << 'p' << layer.pad;
      if (layer.stride != 1) out << 's' << layer.stride;
      break;
  }
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
  for (const LayerSpec& l : layers) out += (out.empty() ? "" : "-") + to_string(l);
  return out;
}

}  // namespace inkwell
