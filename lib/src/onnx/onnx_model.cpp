#include "inkwell/onnx/onnx_model.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "inkwell/core/atomic_file.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/core/read_file.hpp"
#include "inkwell/nn/batch_norm.hpp"
#include "inkwell/nn/layer_kinds.hpp"

namespace fs = std::filesystem;

namespace inkwell {

namespace {

constexpr int kOpset = 13;
const char* kSupported =
    "inkwell imports Conv, Relu, MaxPool, AveragePool, Gemm, MatMul + Add, BatchNormalization, Flatten, Reshape, "
    "Dropout, Identity, QuantizeLinear/DequantizeLinear around Conv and Gemm, and a final Softmax or LogSoftmax "
    "(docs/model-format.md)";
// Nodes that only compute a Reshape's target shape (PyTorch's x.view(x.size(0), -1)).
const std::set<std::string> kShapeOps = {"Shape", "Gather", "Unsqueeze", "Concat", "Constant", "Squeeze", "Slice", "Cast"};

// A node as messages name it.
std::string node_name(const onnx::NodeProto& n, int index) {
  std::string text = "node ";
  if (n.name().empty()) text += "#" + std::to_string(index);
  else text += "'" + n.name() + "'";
  return text + " (" + n.op_type() + ")";
}

const onnx::AttributeProto* attribute(const onnx::NodeProto& n, const char* name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t int_attribute(const onnx::NodeProto& n, const char* name, int64_t fallback) {
  const auto* a = attribute(n, name);
  return a ? a->i() : fallback;
}
float float_attribute(const onnx::NodeProto& n, const char* name, float fallback) {
  const auto* a = attribute(n, name);
  return a ? a->f() : fallback;
}
std::vector<int64_t> ints_attribute(const onnx::NodeProto& n, const char* name) {
  const auto* a = attribute(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
}

// The float values of a tensor (raw little-endian bytes or float_data), checked against its dims.
std::vector<float> floats(const onnx::TensorProto& t, const std::string& where) {
  if (t.data_type() != onnx::TensorProto::FLOAT) throw error(where, ": tensor '", t.name(), "' is not float32");
  if (t.data_location() == onnx::TensorProto::EXTERNAL) throw error(where, ": tensor '", t.name(), "' is stored outside the file");
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > kMaxSpecParameters) throw error(where, ": tensor '", t.name(), "' has a dimension of ", d);
    count *= d;
    if (count > kMaxSpecParameters) throw error(where, ": tensor '", t.name(), "' has over ", kMaxSpecParameters, " values");
  }
  std::vector<float> v;
  if (!t.raw_data().empty()) {
    if (t.raw_data().size() != static_cast<size_t>(count) * sizeof(float))
      throw error(where, ": tensor '", t.name(), "' holds ", t.raw_data().size(), " bytes for ", count, " floats");
    v.resize(static_cast<size_t>(count));
    std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
  } else {
    if (t.float_data_size() != count) throw error(where, ": tensor '", t.name(), "' holds ", t.float_data_size(), " floats for ", count);
    v.assign(t.float_data().begin(), t.float_data().end());
  }
  return v;
}

// The values of an int8 or uint8 tensor (quantised weights, zero points) as floats.
std::vector<float> quantized(const onnx::TensorProto& t, const std::string& where) {
  const bool is_u8 = t.data_type() == onnx::TensorProto::UINT8, is_s8 = t.data_type() == onnx::TensorProto::INT8;
  if (!is_u8 && !is_s8) throw error(where, ": tensor '", t.name(), "' is not int8 or uint8");
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > kMaxSpecParameters) throw error(where, ": tensor '", t.name(), "' has a dimension of ", d);
    count *= d;
    if (count > kMaxSpecParameters) throw error(where, ": tensor '", t.name(), "' has over ", kMaxSpecParameters, " values");
  }
  std::vector<float> v(static_cast<size_t>(count));
  if (!t.raw_data().empty()) {
    if (t.raw_data().size() != static_cast<size_t>(count)) throw error(where, ": tensor '", t.name(), "' holds ", t.raw_data().size(), " bytes for ", count);
    for (int64_t i = 0; i < count; ++i)
      v[i] = is_u8 ? static_cast<uint8_t>(t.raw_data()[i]) : static_cast<int8_t>(t.raw_data()[i]);
  } else {
    if (t.int32_data_size() != count) throw error(where, ": tensor '", t.name(), "' holds ", t.int32_data_size(), " values for ", count);
    for (int64_t i = 0; i < count; ++i) v[i] = static_cast<float>(t.int32_data(static_cast<int>(i)));
  }
  return v;
}

// What the import builds: the layers, and each parameter tensor's values by name.
struct Imported {
  std::vector<LayerSpec> layers;
  std::map<std::string, std::vector<float>> values;
  Dims shape;  // one image's shape after the layers so far
};

class Importer {
 public:
  Importer(const onnx::ModelProto& model, const std::string& source) : model_(model), source_(source) {}

  ModelFile run(const OnnxImportOptions& options) {
    const onnx::GraphProto& g = model_.graph();
    // A file inkwell wrote keeps its layers as they were (a bn stays a bn): the round trip is exact.
    for (const auto& p : model_.metadata_props())
      if (p.key() == "inkwell.spec") fold_batch_norm_ = false;
    for (const auto& t : g.initializer()) constants_[t.name()] = &t;
    for (const auto& n : g.node()) {
      for (const auto& o : n.output()) producers_[o] = &n;
      for (const auto& i : n.input()) consumed_.insert(i);
    }
    for (const auto& n : g.node())
      if (n.op_type() == "Constant" && n.output_size() == 1)
        if (const auto* a = attribute(n, "value"); a && a->has_t()) constants_[n.output(0)] = &a->t();
    // The one real input (older exporters list the initializers among the inputs too).
    const onnx::ValueInfoProto* input = nullptr;
    for (const auto& in : g.input())
      if (!constants_.contains(in.name())) {
        if (input) throw error(source_, ": the graph has more than one input ('", input->name(), "', '", in.name(), "'): inkwell takes one image tensor");
        input = &in;
      }
    if (!input) throw error(source_, ": the graph has no input");
    if (g.output_size() != 1) throw error(source_, ": the graph has ", g.output_size(), " outputs; inkwell takes one (the class scores)");
    out_.shape = input_shape(*input);
    const Dims image = out_.shape;

    std::map<std::string, std::vector<int>> consumers;
    for (int i = 0; i < g.node_size(); ++i)
      if (g.node(i).input_size() > 0 && g.node(i).op_type() != "Shape") consumers[g.node(i).input(0)].push_back(i);
    std::set<int> on_chain;
    std::string current = input->name();
    while (current != g.output(0).name()) {
      const auto it = consumers.find(current);
      if (it == consumers.end()) throw error(source_, ": nothing reads tensor '", current, "' before the graph's output");
      if (it->second.size() > 1)
        throw error(source_, ": tensor '", current, "' feeds ", it->second.size(), " nodes; inkwell imports a chain of layers");
      const int index = it->second[0];
      on_chain.insert(index);
      current = take(index, on_chain);
    }
    finish_pending();
    for (int i = 0; i < g.node_size(); ++i)
      if (!on_chain.contains(i) && !kShapeOps.contains(g.node(i).op_type()) && g.node(i).op_type() != "QuantizeLinear" &&
          g.node(i).op_type() != "DequantizeLinear")
        throw error(source_, ": ", node_name(g.node(i), i), " is off the chain from input to output; ", kSupported);
    if (out_.layers.empty()) throw error(source_, ": the graph has no layers inkwell imports");

    ModelFile m;
    std::string spec;
    for (const LayerSpec& l : out_.layers) {
      if (!spec.empty()) spec += '-';
      spec += to_string(l);
    }
    m.architecture = {spec, image};
    std::vector<NamedDims> shapes;
    try {
      shapes = state_shapes(m.architecture);
    } catch (const Error& e) {
      throw error(source_, ": ", e.what());
    }
    for (const NamedDims& s : shapes) {
      auto v = out_.values.find(s.name);
      if (v == out_.values.end()) throw error(source_, ": no values for ", s.name);
      if (static_cast<int64_t>(v->second.size()) != element_count(s.dims))
        throw error(source_, ": ", s.name, " has ", v->second.size(), " values, ", to_string(s.dims), " needs ", element_count(s.dims));
      m.tensors.push_back({s.name, s.dims, std::move(v->second)});
    }
    if (!calibration_.empty()) {
      if (calibration_.size() != quantizable_layers(m.architecture).size())
        throw error(source_, ": QDQ covers ", calibration_.size(), " of the ", quantizable_layers(m.architecture).size(),
                    " conv and fc layers; inkwell's calibration takes all of them or none");
      m.calibration = std::move(calibration_);
    }
    metadata(m, options);
    check_model(m, source_);
    return m;
  }

 private:
  Dims input_shape(const onnx::ValueInfoProto& in) {
    const auto& type = in.type();
    if (!type.has_tensor_type() || type.tensor_type().elem_type() != onnx::TensorProto::FLOAT)
      throw error(source_, ": input '", in.name(), "' is not a float32 tensor");
    const auto& shape = type.tensor_type().shape();
    if (shape.dim_size() != 4) throw error(source_, ": input '", in.name(), "' has ", shape.dim_size(), " dimensions; inkwell takes (N, C, H, W)");
    Dims d;
    for (int i = 1; i < 4; ++i) {
      if (!shape.dim(i).has_dim_value() || shape.dim(i).dim_value() < 1 || shape.dim(i).dim_value() > kMaxSpecWidth)
        throw error(source_, ": input '", in.name(), "' dimension ", i, " is not a fixed size from 1 to ", kMaxSpecWidth);
      d.push_back(shape.dim(i).dim_value());
    }
    return d;
  }

  const onnx::TensorProto& constant(const onnx::NodeProto& n, int input, int index) {
    if (n.input_size() <= input || n.input(input).empty()) throw error(source_, ": ", node_name(n, index), " lacks input ", input);
    const auto it = constants_.find(n.input(input));
    if (it == constants_.end())
      throw error(source_, ": ", node_name(n, index), ": input '", n.input(input), "' is not a constant (an initializer)");
    return *it->second;
  }
  bool has_input(const onnx::NodeProto& n, int input) const { return n.input_size() > input && !n.input(input).empty(); }

  const onnx::NodeProto* producer(const std::string& tensor) const {
    const auto it = producers_.find(tensor);
    return it == producers_.end() ? nullptr : it->second;
  }

  // Where a layer's weights (input 1) are: a float constant, or behind a DequantizeLinear, of int8
  // constants (QDQ as ONNX Runtime's quantiser writes it) or of a QuantizeLinear of float ones (as
  // inkwell writes it). Throws naming the node when they are none of these.
  struct WeightSource {
    const onnx::TensorProto* tensor;  // the values: float, or int8 behind `dq`
    const onnx::NodeProto* dq;        // null: a plain float constant
  };
  WeightSource weight_source(const onnx::NodeProto& n, int index) {
    if (has_input(n, 1) && constants_.contains(n.input(1))) return {constants_.at(n.input(1)), nullptr};
    const onnx::NodeProto* dq = has_input(n, 1) ? producer(n.input(1)) : nullptr;
    if (!dq || dq->op_type() != "DequantizeLinear" || dq->input_size() < 1) return {&constant(n, 1, index), nullptr};  // its message
    if (constants_.contains(dq->input(0))) return {constants_.at(dq->input(0)), dq};
    const onnx::NodeProto* q = producer(dq->input(0));
    if (!q || q->op_type() != "QuantizeLinear" || q->input_size() < 1 || !constants_.contains(q->input(0)))
      throw error(source_, ": the weights' DequantizeLinear of ", node_name(n, index),
                  ": its input is neither int8 constants nor a QuantizeLinear of float ones");
    return {constants_.at(q->input(0)), dq};
  }

  // The values of the weights at `w`, dequantized where they are int8; `scales` gets the
  // per-output-channel weight scales of a QDQ weight, else stays empty.
  std::vector<float> weights(const WeightSource& w, const onnx::NodeProto& n, int index, const std::string& where,
                             int64_t channels, std::vector<float>& scales) {
    scales.clear();
    if (!w.dq) return floats(*w.tensor, where);
    const onnx::NodeProto* dq = w.dq;
    const std::string dq_where = source_ + ": the weights' DequantizeLinear of " + node_name(n, index);
    if (dq->input_size() < 2 || !constants_.contains(dq->input(1))) throw error(dq_where, ": its scale is not a constant");
    std::vector<float> s = floats(*constants_.at(dq->input(1)), dq_where);
    if (s.size() != 1 && static_cast<int64_t>(s.size()) != channels) throw error(dq_where, ": ", s.size(), " scales for ", channels, " channels");
    if (s.size() > 1 && int_attribute(*dq, "axis", 1) != 0) throw error(dq_where, ": per-channel scales along axis ", int_attribute(*dq, "axis", 1), ", not 0");
    for (float v : s)
      if (!(v > 0) || !std::isfinite(v)) throw error(dq_where, ": a scale of ", v);
    scales.assign(static_cast<size_t>(channels), s[0]);
    if (s.size() > 1) scales = s;
    if (dq->input_size() > 2 && !dq->input(2).empty()) {
      if (!constants_.contains(dq->input(2))) throw error(dq_where, ": its zero point is not a constant");
      for (float z : quantized(*constants_.at(dq->input(2)), dq_where))
        if (z != 0) throw error(dq_where, ": a weight zero point of ", z, " (inkwell's int8 weights are symmetric)");
    }
    if (!constants_.contains(dq->input(0))) return floats(*w.tensor, dq_where);  // float, behind a QuantizeLinear
    std::vector<float> q = quantized(*w.tensor, dq_where);  // int8 weights: W = q * scale
    const size_t per = q.size() / static_cast<size_t>(channels);
    for (size_t i = 0; i < q.size(); ++i) q[i] *= scales[i / per];
    return q;
  }

  // An activation's QuantizeLinear -> DequantizeLinear pair on the chain: the range it keeps,
  // (lo, hi), for the int8 layer it feeds (inkwell's calibration).
  void activation_range(const onnx::NodeProto& n, const std::string& where) {
    if (n.input_size() < 2 || !constants_.contains(n.input(1))) throw error(where, ": its scale is not a constant");
    const std::vector<float> s = floats(*constants_.at(n.input(1)), where);
    if (s.size() != 1 || !(s[0] > 0) || !std::isfinite(s[0])) throw error(where, ": an activation needs one positive scale");
    float z = 0;
    bool is_s8 = false;
    if (n.input_size() > 2 && !n.input(2).empty()) {
      if (!constants_.contains(n.input(2))) throw error(where, ": its zero point is not a constant");
      const onnx::TensorProto& zp = *constants_.at(n.input(2));
      const std::vector<float> zv = quantized(zp, where);
      if (zv.size() != 1) throw error(where, ": an activation needs one zero point");
      z = zv[0], is_s8 = zp.data_type() == onnx::TensorProto::INT8;
    }
    // int8 with zero point 0: the symmetric range (-127 s, 127 s), as inkwell's signed inputs use.
    const float lo = is_s8 ? (z == 0 ? -127.f : -128.f - z) * s[0] : -z * s[0];
    const float hi = (is_s8 ? 127.f - z : 255.f - z) * s[0];
    pending_range_ = {lo, hi};
    pending_range_set_ = true;
  }

  // The next node's output that carries the data on; only its first output may be used.
  std::string output_of(const onnx::NodeProto& n, int index) {
    if (n.output_size() < 1) throw error(source_, ": ", node_name(n, index), " has no output");
    for (int o = 1; o < n.output_size(); ++o)
      if (!n.output(o).empty() && used(n.output(o))) throw error(source_, ": ", node_name(n, index), ": output ", o, " is used; inkwell keeps only the first");
    return n.output(0);
  }
  bool used(const std::string& tensor) const {
    return consumed_.contains(tensor) || model_.graph().output(0).name() == tensor;
  }

  void add_layer(const LayerSpec& l) {
    out_.layers.push_back(l);
    try {
      out_.shape = layer_kind(l.kind).output(l, out_.shape, "imported");
    } catch (const Error& e) {
      throw error(source_, ": ", e.what());
    }
  }
  std::string param_name() const {  // the parameter name the layer just added will carry
    return parameter_layer_names(out_.layers).back();
  }

  // A square window's size, stride and padding, checked to be what inkwell runs.
  struct Window {
    int64_t kernel, stride, pad;
  };
  Window window(const onnx::NodeProto& n, int index, std::vector<int64_t> kernel) {
    const std::string where = source_ + ": " + node_name(n, index);
    const auto* auto_pad = attribute(n, "auto_pad");
    if (auto_pad && auto_pad->s() != "NOTSET" && auto_pad->s() != "VALID") throw error(where, ": auto_pad ", auto_pad->s(), " (inkwell takes explicit pads)");
    if (kernel.empty()) kernel = ints_attribute(n, "kernel_shape");
    std::vector<int64_t> strides = ints_attribute(n, "strides"), pads = ints_attribute(n, "pads"), dilations = ints_attribute(n, "dilations");
    if (strides.empty()) strides = {1, 1};
    if (pads.empty()) pads = {0, 0, 0, 0};
    if (kernel.size() != 2 || kernel[0] != kernel[1]) throw error(where, ": the kernel is not square and 2-D");
    if (strides.size() != 2 || strides[0] != strides[1]) throw error(where, ": the strides differ by axis");
    if (pads.size() != 4 || pads[0] != pads[1] || pads[0] != pads[2] || pads[0] != pads[3])
      throw error(where, ": the padding is not the same on every side");
    for (int64_t d : dilations)
      if (d != 1) throw error(where, ": dilation ", d, " (inkwell runs undilated windows)");
    if (int_attribute(n, "ceil_mode", 0) != 0) throw error(where, ": ceil_mode 1 (inkwell drops a partial window)");
    if (kernel[0] < 1 || kernel[0] > kMaxSpecKernel || strides[0] < 1 || strides[0] > kMaxSpecKernel || pads[0] < 0 || pads[0] >= kernel[0])
      throw error(where, ": kernel ", kernel[0], ", stride ", strides[0], ", padding ", pads[0], " are out of range");
    return {kernel[0], strides[0], pads[0]};
  }

  // Maps node `index` (on the chain) to layers; returns the tensor that carries the data on.
  std::string take(int index, std::set<int>& on_chain) {
    const onnx::NodeProto& n = model_.graph().node(index);
    const std::string& op = n.op_type();
    const std::string where = source_ + ": " + node_name(n, index);
    if (op != "BatchNormalization" && op != "QuantizeLinear" && op != "DequantizeLinear") finish_pending();
    if (op == "QuantizeLinear") {
      activation_range(n, where);
      return output_of(n, index);
    }
    if (op == "DequantizeLinear") {
      if (!pending_range_set_) throw error(where, ": a DequantizeLinear on the data path without a QuantizeLinear before it");
      return output_of(n, index);
    }
    if (op == "Conv") {
      if (int_attribute(n, "group", 1) != 1) throw error(where, ": group ", int_attribute(n, "group", 1), " (inkwell runs group 1)");
      const WeightSource source = weight_source(n, index);
      const Dims wd(source.tensor->dims().begin(), source.tensor->dims().end());
      if (wd.size() != 4) throw error(where, ": weights are not (OC, IC, K, K)");
      const Window win = window(n, index, {wd[2], wd[3]});
      if (out_.shape.size() != 3 || wd[1] != out_.shape[0])
        throw error(where, ": weights take ", wd[1], " channels, the input has ", out_.shape.empty() ? 0 : out_.shape[0]);
      std::vector<float> scales;
      std::vector<float> w = weights(source, n, index, where, wd[0], scales);
      add_layer({LayerSpec::Kind::conv, wd[0], win.kernel, win.pad, win.stride});
      const std::string name = param_name();
      calibrate(name, scales, where);
      out_.values[name + ".weights"] = std::move(w);
      out_.values[name + ".bias"] = has_input(n, 2) ? floats(constant(n, 2, index), where) : std::vector<float>(wd[0], 0.f);
      pending_conv_ = name;
    } else if (op == "BatchNormalization") {
      batch_norm(n, index, where);
    } else if (op == "Relu") {
      add_layer({LayerSpec::Kind::relu});
    } else if (op == "MaxPool" || op == "AveragePool") {
      if (out_.shape.size() != 3) throw error(where, ": needs a (C, H, W) input");
      if (int_attribute(n, "storage_order", 0) != 0) throw error(where, ": storage_order 1");
      const Window win = window(n, index, {});
      if (win.pad != 0) throw error(where, ": padding ", win.pad, " (inkwell's pools take none)");
      add_layer({op == "MaxPool" ? LayerSpec::Kind::maxpool : LayerSpec::Kind::avgpool, 0, win.kernel, 0, win.stride});
    } else if (op == "Flatten") {
      if (int_attribute(n, "axis", 1) != 1) throw error(where, ": axis ", int_attribute(n, "axis", 1), " (inkwell flattens from axis 1)");
      flattened_ = true;
    } else if (op == "Reshape") {
      flattened_ = true;  // checked below: only an fc may follow, which flattens (C, H, W) as Reshape(N, -1) does
    } else if (op == "Gemm") {
      if (float_attribute(n, "alpha", 1) != 1 || float_attribute(n, "beta", 1) != 1 || int_attribute(n, "transA", 0) != 0)
        throw error(where, ": alpha, beta or transA other than 1, 1, 0");
      fc(n, index, where, int_attribute(n, "transB", 0) != 0, has_input(n, 2) ? &constant(n, 2, index) : nullptr);
    } else if (op == "MatMul") {
      // MatMul(x, W) + Add(b): the Add is the next node on the chain, if there is one.
      const onnx::TensorProto* bias = nullptr;
      std::string out = output_of(n, index);
      for (int j = 0; j < model_.graph().node_size(); ++j) {
        const onnx::NodeProto& a = model_.graph().node(j);
        if (a.op_type() == "Add" && a.input_size() == 2 && (a.input(0) == out || a.input(1) == out)) {
          const int other = a.input(0) == out ? 1 : 0;
          if (!constants_.contains(a.input(other))) break;
          bias = constants_.at(a.input(other));
          on_chain.insert(j);
          fc(n, index, where, false, bias);
          return output_of(a, j);
        }
      }
      fc(n, index, where, false, nullptr);
      return out;
    } else if (op == "Dropout" || op == "Identity") {
      // inference: nothing to do
    } else if (op == "Softmax" || op == "LogSoftmax") {
      if (output_of(n, index) != model_.graph().output(0).name()) throw error(where, ": a softmax before the end");
    } else {
      throw error(where, ": not supported; ", kSupported);
    }
    if (flattened_ && op != "Flatten" && op != "Reshape" && op != "Dropout" && op != "Identity") {
      if (!out_.layers.empty() && out_.layers.back().kind != LayerSpec::Kind::fc && op != "Softmax" && op != "LogSoftmax")
        throw error(where, ": follows a Flatten or Reshape; inkwell flattens only into an fc (Gemm, MatMul)");
      flattened_ = false;
    }
    return output_of(n, index);
  }

  // QDQ around a conv or fc: its input range (from the pair before it) and weight scales.
  void calibrate(const std::string& layer, const std::vector<float>& scales, const std::string& where) {
    if (scales.empty() != !pending_range_set_)
      throw error(where, ": QDQ on ", scales.empty() ? "its input but not its weights" : "its weights but not its input",
                  " (inkwell's int8 layers take both)");
    if (!scales.empty()) calibration_.push_back({layer, pending_range_.first, pending_range_.second, scales});
    pending_range_set_ = false;
  }

  // Gemm or MatMul: an fc over the flattened input. W is (OUT, IN) with trans_b, else (IN, OUT).
  void fc(const onnx::NodeProto& n, int index, const std::string& where, bool trans_b, const onnx::TensorProto* bias) {
    const WeightSource source = weight_source(n, index);
    const Dims wd(source.tensor->dims().begin(), source.tensor->dims().end());
    if (wd.size() != 2) throw error(where, ": weights are not 2-D");
    const int64_t in = trans_b ? wd[1] : wd[0], outputs = trans_b ? wd[0] : wd[1];
    if (in != element_count(out_.shape)) throw error(where, ": weights take ", in, " inputs, the layer before gives ", element_count(out_.shape));
    std::vector<float> scales;
    if (!trans_b && source.dq)
      throw error(where, ": QDQ weights of a MatMul or a Gemm without transB (inkwell takes them per output channel, transB 1)");
    std::vector<float> v = weights(source, n, index, where, outputs, scales);
    if (!trans_b) {  // (IN, OUT) -> (OUT, IN)
      std::vector<float> t(v.size());
      for (int64_t i = 0; i < in; ++i)
        for (int64_t o = 0; o < outputs; ++o) t[o * in + i] = v[i * outputs + o];
      v = std::move(t);
    }
    add_layer({LayerSpec::Kind::fc, outputs});
    const std::string name = param_name();
    calibrate(name, scales, where);
    out_.values[name + ".weights"] = std::move(v);
    std::vector<float> b = bias ? floats(*bias, where) : std::vector<float>(static_cast<size_t>(outputs), 0.f);
    if (static_cast<int64_t>(b.size()) != outputs) throw error(where, ": the bias has ", b.size(), " values for ", outputs, " outputs");
    out_.values[name + ".bias"] = std::move(b);
  }

  // Right after a conv: folded into its weights and bias (not in a file inkwell wrote, whose bn
// layers are kept as they were). Elsewhere: a bn layer, its epsilon
  // moved into the running variance (inkwell's is BatchNorm::kEpsilon).
  void batch_norm(const onnx::NodeProto& n, int index, const std::string& where) {
    if (int_attribute(n, "training_mode", 0) != 0) throw error(where, ": training_mode 1");
    const double eps = float_attribute(n, "epsilon", 1e-5f);
    std::vector<float> gamma = floats(constant(n, 1, index), where), beta = floats(constant(n, 2, index), where),
                       mean = floats(constant(n, 3, index), where), var = floats(constant(n, 4, index), where);
    const size_t c = out_.shape.empty() ? 0 : static_cast<size_t>(out_.shape[0]);
    if (gamma.size() != c || beta.size() != c || mean.size() != c || var.size() != c)
      throw error(where, ": its statistics are not one per channel (", c, ")");
    for (float v : var)
      if (!(v + eps > 0)) throw error(where, ": a variance of ", v);
    if (!pending_conv_.empty() && fold_batch_norm_) {
      std::vector<float>& w = out_.values[pending_conv_ + ".weights"];
      std::vector<float>& b = out_.values[pending_conv_ + ".bias"];
      const size_t per_channel = w.size() / c;
      for (size_t o = 0; o < c; ++o) {
        const double k = gamma[o] / std::sqrt(static_cast<double>(var[o]) + eps);
        for (size_t i = 0; i < per_channel; ++i) w[o * per_channel + i] = static_cast<float>(w[o * per_channel + i] * k);
        b[o] = static_cast<float>((b[o] - mean[o]) * k + beta[o]);
      }
      pending_conv_.clear();
      return;
    }
    add_layer({LayerSpec::Kind::bn});
    const std::string name = param_name();
    for (float& v : var) v = static_cast<float>(v + eps - BatchNorm::kEpsilon);
    out_.values[name + ".scale"] = std::move(gamma);
    out_.values[name + ".shift"] = std::move(beta);
    out_.values[name + ".running_mean"] = std::move(mean);
    out_.values[name + ".running_var"] = std::move(var);
  }
  void finish_pending() { pending_conv_.clear(); }

  void metadata(ModelFile& m, const OnnxImportOptions& o) {
    std::map<std::string, std::string> meta;
    for (const auto& p : model_.metadata_props()) meta[p.key()] = p.value();
    const int64_t outputs = out_.layers.back().kind == LayerSpec::Kind::fc ? out_.layers.back().out : 0;
    if (!o.classes.empty()) {
      m.classes = o.classes;
    } else if (meta.contains("inkwell.classes")) {
      const std::string& text = meta["inkwell.classes"];
      for (size_t start = 0;;) {
        const size_t end = text.find('\n', start);
        m.classes.push_back(text.substr(start, end - start));
        if (end == std::string::npos) break;
        start = end + 1;
      }
    } else {
      for (int64_t i = 0; i < outputs; ++i) m.classes.push_back(std::to_string(i));
    }
    m.normalization = kMnistNormalization;
    if (o.normalization) {
      m.normalization = *o.normalization;
    } else if (meta.contains("inkwell.normalization")) {
      if (std::sscanf(meta["inkwell.normalization"].c_str(), "%f %f", &m.normalization.mean, &m.normalization.std) != 2)
        throw error(source_, ": metadata inkwell.normalization is not 'MEAN STD'");
    }
    if (o.style) m.meta["preprocessing"] = to_string(*o.style);
    else if (meta.contains("inkwell.preprocessing")) m.meta["preprocessing"] = meta["inkwell.preprocessing"];
    m.meta["imported_from"] = "onnx";
  }

  const onnx::ModelProto& model_;
  const std::string& source_;
  std::map<std::string, const onnx::TensorProto*> constants_;
  std::map<std::string, const onnx::NodeProto*> producers_;  // each tensor's node
  std::set<std::string> consumed_;                            // every tensor some node reads
  Imported out_;
  std::string pending_conv_;  // the conv just added, which a BatchNormalization may fold into
  bool flattened_ = false;
  bool fold_batch_norm_ = true;
  std::pair<float, float> pending_range_;  // the last activation QDQ's range, for the int8 layer it feeds
  bool pending_range_set_ = false;
  Calibration calibration_;
};

onnx::TensorProto tensor(const std::string& name, const Dims& dims, const std::vector<float>& values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(values.data(), values.size() * sizeof(float));
  return t;
}

onnx::NodeProto* node(onnx::GraphProto& g, const std::string& op, const std::string& name, std::vector<std::string> inputs,
                      const std::string& output) {
  onnx::NodeProto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const std::string& i : inputs) n->add_input(i);
  n->add_output(output);
  return n;
}
void ints(onnx::NodeProto* n, const char* name, std::vector<int64_t> values) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}
void one_int(onnx::NodeProto* n, const char* name, int64_t value) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}
void one_float(onnx::NodeProto* n, const char* name, float value) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}
void value_info(onnx::ValueInfoProto* v, const std::string& name, const Dims& image) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  t->mutable_shape()->add_dim()->set_dim_param("batch");
  for (int64_t d : image) t->mutable_shape()->add_dim()->set_dim_value(d);
}

// Before onnx's checker and shape inference see a hostile file: only the ops the import maps, in the
// default domain, with no subgraphs or model-local functions, and windows whose sizes, strides and
// dilations are at least 1 (onnx's Conv/Pool shape inference divides by them: a stride of 0 was a
// fuzzing finding, SIGFPE inside libonnx).
void screen(const onnx::ModelProto& model, const std::string& source) {
  static const std::set<std::string> kOps = {"Conv",    "Relu",     "MaxPool",   "AveragePool",        "Gemm",
                                             "MatMul",  "Add",      "Flatten",   "Reshape",            "Dropout",
                                             "Identity", "Softmax", "LogSoftmax", "BatchNormalization", "QuantizeLinear",
                                             "DequantizeLinear"};
  if (model.functions_size() > 0) throw error(source, ": the model defines functions; ", kSupported);
  constexpr int64_t kMaxWindow = 1 << 16;
  const onnx::GraphProto& g = model.graph();
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& n = g.node(i);
    if ((!n.domain().empty() && n.domain() != "ai.onnx") || (!kOps.contains(n.op_type()) && !kShapeOps.contains(n.op_type())))
      throw error(source, ": ", node_name(n, i), ": not supported; ", kSupported);
    for (const auto& a : n.attribute()) {
      if (a.has_g() || a.graphs_size() > 0) throw error(source, ": ", node_name(n, i), " has a subgraph; ", kSupported);
      const bool window = a.name() == "kernel_shape" || a.name() == "strides" || a.name() == "dilations";
      if (window || a.name() == "pads")
        for (int64_t v : a.ints())
          if (v < (window ? 1 : 0) || v > kMaxWindow)
            throw error(source, ": ", node_name(n, i), " has ", a.name(), " ", v, ", outside [", window ? 1 : 0, ", ", kMaxWindow, "]");
      if (a.name() == "group" && (a.i() < 1 || a.i() > kMaxWindow))
        throw error(source, ": ", node_name(n, i), " has group ", a.i(), ", outside [1, ", kMaxWindow, "]");
    }
  }
}

}  // namespace

ModelFile import_onnx(std::span<const uint8_t> bytes, const std::string& source, const OnnxImportOptions& options) {
  if (bytes.size() > kMaxOnnxFileBytes) throw error(source, ": ", bytes.size(), " bytes, over the ", kMaxOnnxFileBytes, "-byte limit");
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || !model.has_graph())
    throw error(source, ": not an ONNX model (its bytes do not parse as one)");
  screen(model, source);
  try {
    onnx::checker::check_model(model);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (what.size() > 300) what = what.substr(0, 300) + "...";
    throw error(source, ": onnx's checker refuses it: ", what);
  }
  return Importer(model, source).run(options);
}

std::string export_onnx(const ModelFile& m) {
  check_model(m, "the model to export");
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.set_producer_name("inkwell");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  auto add_meta = [&](const char* key, const std::string& value) {
    auto* p = model.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  };
  char norm[64];
  std::snprintf(norm, sizeof norm, "%.9g %.9g", m.normalization.mean, m.normalization.std);
  add_meta("inkwell.normalization", norm);
  std::string classes;
  for (const std::string& c : m.classes) {
    if (!classes.empty()) classes += '\n';
    classes += c;
  }
  add_meta("inkwell.classes", classes);
  add_meta("inkwell.preprocessing", to_string(preprocess_style(m)));
  add_meta("inkwell.spec", m.architecture.spec);

  onnx::GraphProto& g = *model.mutable_graph();
  g.set_name("inkwell");
  value_info(g.add_input(), "input", m.architecture.input);
  std::map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& t : m.tensors) by_name[t.name] = &t;
  auto init = [&](const std::string& name, Dims dims = {}) {
    const NamedTensor& t = *by_name.at(name);
    *g.add_initializer() = tensor(name, dims.empty() ? t.dims : dims, t.data);
    return name;
  };
  const std::vector<LayerSpec> layers = parse_spec(m.architecture.spec);
  const std::vector<std::string> names = layer_names(layers), params = parameter_layer_names(layers);
  // A calibrated model: QuantizeLinear -> DequantizeLinear on each int8 layer's input (int8 for a
  // signed range, uint8 else, zero point 0) and on its float weights (int8, per output channel).
  std::map<std::string, const LayerCalibration*> calibrated;
  for (const LayerCalibration& l : m.calibration) calibrated[l.layer] = &l;
  auto scalar = [&](const std::string& name, onnx::TensorProto_DataType type, float value) {
    onnx::TensorProto* t = g.add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    if (type == onnx::TensorProto::FLOAT) t->add_float_data(value);
    else t->add_int32_data(static_cast<int32_t>(value));
    return name;
  };
  auto qdq_input = [&](const std::string& layer, const std::string& x) {
    const LayerCalibration& c = *calibrated.at(layer);
    const bool is_signed = c.lo < 0;
    const float scale = is_signed ? std::max(-c.lo, c.hi) / 127.f : c.hi / 255.f;
    const auto type = is_signed ? onnx::TensorProto::INT8 : onnx::TensorProto::UINT8;
    const std::string s = scalar(layer + ".input_scale", onnx::TensorProto::FLOAT, scale);
    const std::string z = scalar(layer + ".input_zero_point", type, 0);
    node(g, "QuantizeLinear", layer + ".input_quantize", {x, s, z}, layer + ".input_q");
    node(g, "DequantizeLinear", layer + ".input_dequantize", {layer + ".input_q", s, z}, layer + ".input_dq");
    return layer + ".input_dq";
  };
  auto qdq_weights = [&](const std::string& layer, const std::string& w) {
    const LayerCalibration& c = *calibrated.at(layer);
    const int64_t n = static_cast<int64_t>(c.weight_scales.size());
    *g.add_initializer() = tensor(layer + ".weight_scales", {n}, c.weight_scales);
    onnx::TensorProto* z = g.add_initializer();
    z->set_name(layer + ".weight_zero_points");
    z->set_data_type(onnx::TensorProto::INT8);
    z->add_dims(n);
    z->set_raw_data(std::string(static_cast<size_t>(n), '\0'));
    for (const char* op : {"QuantizeLinear", "DequantizeLinear"}) {
      const bool q = op[0] == 'Q';
      one_int(node(g, op, layer + (q ? ".weights_quantize" : ".weights_dequantize"),
                   {q ? w : layer + ".weights_q", layer + ".weight_scales", layer + ".weight_zero_points"},
                   layer + (q ? ".weights_q" : ".weights_dq")),
              "axis", 0);
    }
    return layer + ".weights_dq";
  };
  std::string x = "input";
  Dims shape = m.architecture.input;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& l = layers[i];
    const std::string& name = names[i];
    const std::string out = i + 1 == layers.size() ? "logits" : name;
    switch (l.kind) {
      case LayerSpec::Kind::conv: {
        std::string w = init(params[i] + ".weights");
        if (calibrated.contains(params[i])) x = qdq_input(params[i], x), w = qdq_weights(params[i], w);
        auto* n = node(g, "Conv", name, {x, w, init(params[i] + ".bias")}, out);
        ints(n, "kernel_shape", {l.kernel, l.kernel});
        ints(n, "strides", {l.stride, l.stride});
        ints(n, "pads", {l.pad, l.pad, l.pad, l.pad});
        break;
      }
      case LayerSpec::Kind::maxpool:
      case LayerSpec::Kind::avgpool: {
        auto* n = node(g, l.kind == LayerSpec::Kind::maxpool ? "MaxPool" : "AveragePool", name, {x}, out);
        ints(n, "kernel_shape", {l.kernel, l.kernel});
        ints(n, "strides", {l.stride, l.stride});
        break;
      }
      case LayerSpec::Kind::fc: {
        if (shape.size() > 1) {  // (N, C, H, W) -> (N, C*H*W), the order inkwell's fc weights follow
          one_int(node(g, "Flatten", name + ".flatten", {x}, name + ".flat"), "axis", 1);
          x = name + ".flat";
        }
        const Dims wd = by_name.at(params[i] + ".weights")->dims;
        std::string w = init(params[i] + ".weights", {wd[0], element_count(wd) / wd[0]});
        if (calibrated.contains(params[i])) x = qdq_input(params[i], x), w = qdq_weights(params[i], w);
        auto* n = node(g, "Gemm", name, {x, w, init(params[i] + ".bias")}, out);
        one_int(n, "transB", 1);
        break;
      }
      case LayerSpec::Kind::relu: node(g, "Relu", name, {x}, out); break;
      case LayerSpec::Kind::bn: {
        const std::string p = params[i];
        auto* n = node(g, "BatchNormalization", name,
                       {x, init(p + ".scale"), init(p + ".shift"), init(p + ".running_mean"), init(p + ".running_var")}, out);
        one_float(n, "epsilon", BatchNorm::kEpsilon);
        break;
      }
      case LayerSpec::Kind::dropout: node(g, "Identity", name, {x}, out); break;  // inference: nothing
    }
    x = out;
    shape = layer_kind(l.kind).output(l, shape, m.architecture.spec);
  }
  auto* output = g.add_output();
  output->set_name("logits");
  auto* t = output->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  t->mutable_shape()->add_dim()->set_dim_param("batch");
  t->mutable_shape()->add_dim()->set_dim_value(static_cast<int64_t>(m.classes.size()));
  onnx::checker::check_model(model);
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw error("cannot serialise the ONNX model");
  return bytes;
}

void save_onnx(const std::string& path, const ModelFile& model) { write_file_atomically(path, export_onnx(model)); }

bool is_onnx_path(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".onnx";
}

ModelFile load_model(const std::string& path, const OnnxImportOptions& options) {
  if (!is_onnx_path(path)) return load_model_file(path);
  const std::vector<uint8_t> bytes = read_regular_file(path, kMaxOnnxFileBytes);
  return import_onnx(bytes, path, options);
}

void save_model(const std::string& path, const ModelFile& model) {
  if (is_onnx_path(path)) save_onnx(path, model);
  else save_model_file(path, model);
}

}  // namespace inkwell
