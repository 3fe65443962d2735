#include "inkwell/train/fine_tune.hpp"

#include <algorithm>

#include "inkwell/core/error.hpp"

namespace inkwell {

CopiedTensors copy_matching_tensors(const ModelFile& from, Model& model) {
  std::vector<NamedTensor> state = model.state();
  CopiedTensors result;
  for (NamedTensor& t : state) {
    const auto it = std::find_if(from.tensors.begin(), from.tensors.end(), [&](const NamedTensor& f) { return f.name == t.name; });
    if (it != from.tensors.end() && it->dims == t.dims) t.data = it->data, ++result.copied;
    else result.fresh.push_back(t.name);
  }
  model.load_state(state);
  return result;
}

size_t frozen_floats(const ParamArena& arena, int layers) {
  auto layer_of = [](const Param& p) { return p.name.substr(0, p.name.find('.')); };
  std::vector<std::string> order;  // parameterised layers, first seen first
  for (const Param& p : arena.params())
    if (std::find(order.begin(), order.end(), layer_of(p)) == order.end()) order.push_back(layer_of(p));
  if (layers >= static_cast<int>(order.size()))
    throw error("--freeze ", layers, " would leave nothing to train: the model has ", order.size(), " parameterised layers");
  auto frozen = [&](const Param& p) { return std::find(order.begin(), order.begin() + layers, layer_of(p)) != order.begin() + layers; };
  size_t prefix = 0;
  for (const Param& p : arena.params())
    if (frozen(p)) prefix = std::max(prefix, p.offset + p.size);
  for (const Param& p : arena.params())
    if (!frozen(p) && p.offset < prefix) throw error("--freeze: ", p.name, " lies among the frozen layers in the parameter arena");
  return prefix;
}

}  // namespace inkwell
