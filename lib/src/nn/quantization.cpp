#include "inkwell/nn/quantization.hpp"

#include <algorithm>
#include <cmath>

#include <oneapi/dnnl/dnnl.hpp>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/cpu_isa.hpp"
#include "inkwell/nn/layer_kinds.hpp"

namespace inkwell {

std::vector<std::pair<std::string, int64_t>> quantizable_layers(const Architecture& arch) {
  std::vector<std::pair<std::string, int64_t>> out;
  const std::vector<LayerSpec> specs = parse_spec(arch.spec);
  const std::vector<std::string> names = parameter_layer_names(specs);
  for (size_t i = 0; i < specs.size(); ++i)
    if (layer_kind(specs[i].kind).int8)
      out.emplace_back(names[i], specs[i].out);
  return out;
}

std::vector<NamedTensor> calibration_tensors(const Calibration& q) {
  std::vector<NamedTensor> out;
  for (const LayerCalibration& l : q) {
    out.push_back({l.layer + ".input_range", {2}, {l.lo, l.hi}});
    out.push_back({l.layer + ".weight_scales", {static_cast<int64_t>(l.weight_scales.size())}, l.weight_scales});
  }
  return out;
}

Calibration calibration_from_tensors(const std::vector<NamedTensor>& tensors, const Architecture& arch) {
  if (tensors.empty()) return {};
  const auto layers = quantizable_layers(arch);
  if (tensors.size() != 2 * layers.size())
    throw error("quantization: ", tensors.size(), " tensors for ", layers.size(), " conv/fc layers (expected ",
                2 * layers.size(), ")");
  Calibration q;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& [name, channels] = layers[i];
    const NamedTensor& range = tensors[2 * i];
    const NamedTensor& scales = tensors[2 * i + 1];
    if (range.name != name + ".input_range" || range.dims != Dims{2})
      throw error("quantization: expected ", name, ".input_range (2), got ", range.name, " (", to_string(range.dims), ")");
    if (scales.name != name + ".weight_scales" || scales.dims != Dims{channels})
      throw error("quantization: expected ", name, ".weight_scales (", channels, "), got ", scales.name, " (",
                  to_string(scales.dims), ")");
    const float lo = range.data[0], hi = range.data[1];
    // Bounds that leave trained ranges (about 1e-3 to 1e2) and scales (1e-5 to 1) far inside, and
    // keep every scale derived from them (range / 255, 1 / scale) a normal float.
    constexpr float kMaxRange = 1e6f, kMinScale = 1e-12f, kMaxScale = 1e6f;
    if (!(std::abs(lo) <= kMaxRange && std::abs(hi) <= kMaxRange && lo <= hi && hi >= kMaxRange / 1e12f))
      throw error("quantization: ", name, ".input_range (", lo, ", ", hi, ") is not a range with hi from 1e-6 to ", kMaxRange);
    for (float s : scales.data)
      if (!(s >= kMinScale && s <= kMaxScale))
        throw error("quantization: ", name, ".weight_scales holds ", s, ", not a scale from ", kMinScale, " to ", kMaxScale);
    q.push_back({name, lo, hi, scales.data});
  }
  return q;
}

std::string to_string(Precision p) {
  switch (p) {
    case Precision::automatic: return "auto";
    case Precision::f32: return "f32";
    case Precision::int8: return "int8";
  }
  return "?";
}

Precision parse_precision(const std::string& name) {
  if (name == "auto") return Precision::automatic;
  if (name == "f32") return Precision::f32;
  if (name == "int8") return Precision::int8;
  throw error("unknown inference precision '", name, "' (expected auto, f32 or int8)");
}

Int8Plan plan_int8(const Architecture& arch, const Calibration& q, Precision precision) {
  Int8Plan plan;
  if (precision == Precision::f32 || q.empty()) return plan;
  if (precision == Precision::automatic && !effective_isa_has(dnnl::cpu_isa::avx2)) {
    plan.notes.push_back("int8 is slower than f32 below AVX2 on this CPU (oneDNN ISA " +
                         std::to_string(static_cast<unsigned>(dnnl::get_effective_cpu_isa())) + "): running f32");
    return plan;
  }
  const std::vector<LayerSpec> specs = parse_spec(arch.spec);
  const std::vector<NamedDims> shapes = state_shapes(arch);
  auto input_channels = [&](const std::string& layer) {
    for (const NamedDims& s : shapes)
      if (s.name == layer + ".weights") return s.dims[1];
    return int64_t{0};
  };

  // Which layers run in int8, and at what input scale.
  for (const LayerCalibration& l : q) {
    // A correctness rule, for every precision asked: measured on oneDNN 2.6.3 and 3.7.2 alike.
    if (l.lo < 0 && !cpu_has_int8_vnni()) {
      plan.notes.push_back(l.layer + " stays f32: without VNNI, oneDNN's int8 kernels on a signed input are off by "
                                     "9-40% (docs/int8.md)");
      continue;
    }
    const bool one_channel_conv = l.layer.starts_with("conv") && input_channels(l.layer) == 1;
    if (precision == Precision::automatic && one_channel_conv && DNNL_VERSION_MAJOR < 3) {
      plan.notes.push_back(l.layer + " stays f32: oneDNN 2.x's int8 kernel for one input channel is slower than its f32 one");
      continue;
    }
    Int8Layer layer;
    layer.src_signed = l.lo < 0;
    // Without VNNI, oneDNN sums pairs of u8 x s8 products in 16 bits, which full-range u8 inputs
    // overflow: 7-bit inputs keep every pair in range (as oneDNN's int8 guide advises).
    const float u8_max = cpu_has_int8_vnni() ? 255.f : 127.f;
    layer.src_scale = layer.src_signed ? std::max(-l.lo, l.hi) / 127.f : l.hi / u8_max;
    layer.weight_scales = l.weight_scales;
    plan.layers[l.layer] = std::move(layer);
  }

  // u8 output where a fused ReLU feeds, through layers an int8 scale passes (pools), an int8 layer
  // taking u8.
  const std::vector<std::string> names = parameter_layer_names(specs);
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto it = plan.layers.find(names[i]);
    if (it == plan.layers.end() || !relu_fused_into(specs, i)) continue;
    size_t j = i + 2;
    while (j < specs.size() && layer_kind(specs[j].kind).int8_scale_passes) ++j;
    if (j >= specs.size()) continue;
    const auto next = plan.layers.find(names[j]);
    if (next != plan.layers.end() && !next->second.src_signed) it->second.dst_scale = next->second.src_scale;
  }
  return plan;
}

}  // namespace inkwell
