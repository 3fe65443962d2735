// ONNX in and out (onnx/onnx_model.hpp):
// - the seed notebook's model trained in PyTorch (tests/data/onnx/seed_pytorch.py) gives
//   PyTorch's labels on MNIST's 10k test images, but for near ties, and its probabilities
//   within 1e-4;
// - .inkw -> .onnx -> .inkw keeps every weight bit for bit, for every layer kind;
// - a BatchNormalization after a Conv (as other exporters write it) is folded, with the same output;
// - MatMul + Add is an fc;
// - a QDQ int8 model written as ONNX Runtime's quantiser writes them (seed_pytorch_qdq.py) becomes
//   inkwell's calibration, and its int8 labels agree with its f32 parent's; a calibrated inkwell
//   model goes out as QDQ and comes back with the same calibration;
// - every unsupported op, and every malformed graph, is an Error naming the node and its op.
#include <gtest/gtest.h>

#include <onnx/onnx_pb.h>
#include <zlib.h>

#include <cmath>
#include <sstream>

#include "inkwell/core/error.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/data/dataset.hpp"
#include "inkwell/nn/loss.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/nn/quantization.hpp"
#include "inkwell/onnx/onnx_model.hpp"

namespace inkwell {
namespace {

const std::string kFixtures = std::string(INKWELL_SOURCE_DIR) + "/tests/data/onnx/";

std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw error(path, ": cannot open");
  std::string out;
  char buf[1 << 16];
  for (int n; (n = gzread(f, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

// A model's outputs on `images` (N x C x H x W, already normalised), batch by batch, in f32 or
// (int8) with its calibration.
std::vector<float> outputs(const ModelFile& m, const std::vector<float>& images, int64_t n, bool int8 = false) {
  const int64_t batch = std::min<int64_t>(n, 500), in = element_count(m.architecture.input);
  Model model = int8 ? Model(m.architecture, batch, plan_int8(m.architecture, m.calibration, Precision::int8))
                     : Model(m.architecture, batch, Mode::infer);
  model.load_state(m.tensors);
  const int64_t classes = static_cast<int64_t>(m.classes.size());
  std::vector<float> out(static_cast<size_t>(n * classes));
  for (int64_t first = 0; first < n; first += batch) {
    const int64_t rows = std::min(batch, n - first);
    std::fill_n(model.src(), batch * in, 0.f);
    std::copy_n(images.data() + first * in, rows * in, model.src());
    model.forward();
    std::copy_n(model.dst(), rows * classes, out.data() + first * classes);
  }
  return out;
}

std::vector<float> mnist_test_images(const Normalization& norm) {
  const DatasetSplits mnist = load_named_dataset("mnist", dataset_dir("mnist"));
  std::vector<float> x(static_cast<size_t>(mnist.test.size() * 784));
  std::vector<uint32_t> all(static_cast<size_t>(mnist.test.size()));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint32_t>(i);
  fill_batch(mnist.test, all, norm, x.data(), {}, 2);
  return x;
}

int64_t argmax_at(const std::vector<float>& logits, int64_t i, int64_t classes) {
  return argmax(logits.data() + i * classes, classes);
}

TEST(Onnx, AQdqModelBecomesACalibrationThatAgreesWithItsF32Parent) {
  const ModelFile parent = load_model(kFixtures + "seed-pytorch.onnx");
  const ModelFile qdq = load_model(kFixtures + "seed-pytorch-qdq.onnx");
  ASSERT_EQ(qdq.architecture.spec, parent.architecture.spec);
  ASSERT_EQ(qdq.calibration.size(), 3u);
  EXPECT_LT(qdq.calibration[0].lo, 0.f);   // the normalised image: signed
  EXPECT_EQ(qdq.calibration[1].lo, 0.f);   // after a ReLU: uint8
  EXPECT_EQ(qdq.calibration[1].weight_scales.size(), 32u);  // per output channel
  const DatasetSplits mnist = load_named_dataset("mnist", dataset_dir("mnist"));
  const std::vector<float> x = mnist_test_images(parent.normalization);
  const int64_t n = mnist.test.size();
  const std::vector<float> f32 = outputs(parent, x, n), int8 = outputs(qdq, x, n, true);
  int64_t agree = 0, right_f32 = 0, right_int8 = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t a = argmax_at(f32, i, 10), b = argmax_at(int8, i, 10);
    agree += a == b, right_f32 += a == mnist.test.labels[i], right_int8 += b == mnist.test.labels[i];
  }
  std::printf("QDQ int8 agrees with f32 on %lld of 10000; accuracy f32 %.2f%%, int8 %.2f%%\n", static_cast<long long>(agree),
              right_f32 / 100.0, right_int8 / 100.0);
  EXPECT_GE(agree, 9950);
  EXPECT_LE(right_f32 - right_int8, 30);  // within 0.3 points
}

TEST(Onnx, ACalibratedModelGoesOutAsQdqAndComesBackCalibrated) {
  const ModelFile m = load_model(std::string(INKWELL_SOURCE_DIR) + "/models/default.inkw");
  ASSERT_FALSE(m.calibration.empty());
  const std::string bytes = export_onnx(m);
  onnx::ModelProto p;
  ASSERT_TRUE(p.ParseFromString(bytes));
  int q = 0;
  for (const auto& node : p.graph().node()) q += node.op_type() == "QuantizeLinear";
  EXPECT_EQ(q, 6);  // each of 3 layers: its input and its weights
  const ModelFile back = import_onnx({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "q.onnx");
  ASSERT_EQ(back.calibration.size(), m.calibration.size());
  for (size_t i = 0; i < m.calibration.size(); ++i) {
    const LayerCalibration &a = m.calibration[i], &b = back.calibration[i];
    EXPECT_EQ(a.layer, b.layer);
    EXPECT_EQ(a.weight_scales, b.weight_scales);
    EXPECT_EQ(a.lo < 0, b.lo < 0);
    EXPECT_NEAR(b.hi, a.lo < 0 ? std::max(-a.lo, a.hi) : a.hi, 1e-6f * a.hi) << a.layer;
  }
  for (size_t i = 0; i < m.tensors.size(); ++i) EXPECT_EQ(back.tensors[i].data, m.tensors[i].data) << m.tensors[i].name;
}

TEST(Onnx, ThePyTorchSeedModelGivesPyTorchsLabelsAndProbabilities) {
  const ModelFile m = load_model(kFixtures + "seed-pytorch.onnx");
  EXPECT_EQ(m.architecture.spec, "conv16k5p2-relu-maxpool2-conv32k5p2-relu-maxpool2-fc10");
  EXPECT_EQ(m.classes.size(), 10u);
  EXPECT_FLOAT_EQ(m.normalization.mean, 0.1307f);
  const DatasetSplits mnist = load_named_dataset("mnist", dataset_dir("mnist"));
  const int64_t n = mnist.test.size();
  ASSERT_EQ(n, 10000);
  std::vector<float> x(static_cast<size_t>(n * 784));
  std::vector<uint32_t> all(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) all[i] = static_cast<uint32_t>(i);
  fill_batch(mnist.test, all, m.normalization, x.data(), {}, 2);
  const std::vector<float> logits = outputs(m, x, n);

  std::istringstream want(gunzip(kFixtures + "seed-pytorch-predictions.txt.gz"));
  std::string header;
  std::getline(want, header);
  int64_t same = 0, ties = 0;
  double worst = 0;
  std::vector<double> p(10);
  for (int64_t i = 0; i < n; ++i) {
    int label = 0, second = 0;
    double p1 = 0, p2 = 0;
    ASSERT_TRUE(want >> label >> p1 >> second >> p2) << "line " << i + 2;
    const double sum = softmax_terms({logits.data() + i * 10, 10}, p);
    int top[1];
    most_probable(p, top);
    if (top[0] == label) ++same;
    else if (p1 - p2 < 1e-3) ++ties;  // PyTorch's top two within 0.001: either label is fair
    else ADD_FAILURE() << "image " << i << ": inkwell says " << top[0] << ", PyTorch " << label << " (" << p1 << ")";
    worst = std::max(worst, std::abs(p[label] / sum - p1));
  }
  std::printf("PyTorch's labels on %lld of 10000 (%lld near ties); largest probability difference %.2e\n",
              static_cast<long long>(same), static_cast<long long>(ties), worst);
  EXPECT_LT(worst, 1e-4);
}

// A model of every layer kind, with random weights and statistics.
ModelFile every_kind() {
  ModelFile m;
  m.architecture = {"conv6k3p1-bn-relu-avgpool2-conv8k3p1s1-relu-maxpool2-fc12-bn-relu-dropout30-fc4", {2, 12, 12}};
  Model model(m.architecture, 1, Mode::train);
  model.init_params(5);
  m.tensors = model.state();
  Rng rng(3);
  for (NamedTensor& t : m.tensors)
    if (t.name.find("running_var") != std::string::npos || t.name.find("scale") != std::string::npos)
      for (float& v : t.data) v = static_cast<float>(rng.uniform(0.5, 1.5));
    else if (t.name.find("running_mean") != std::string::npos || t.name.find("shift") != std::string::npos)
      for (float& v : t.data) v = static_cast<float>(rng.uniform(-0.5, 0.5));
  m.classes = {"a", "b", "c", "d"};
  m.normalization = {0.25f, 0.5f};
  m.meta["preprocessing"] = "emnist";
  return m;
}

TEST(Onnx, InkwellToOnnxAndBackKeepsEveryBit) {
  const ModelFile m = every_kind();
  const std::string bytes = export_onnx(m);
  const ModelFile back = import_onnx({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "round.onnx");
  EXPECT_EQ(back.architecture.spec, "conv6k3p1-bn-relu-avgpool2-conv8k3p1-relu-maxpool2-fc12-bn-relu-fc4");  // dropout: inference
  EXPECT_EQ(back.architecture.input, m.architecture.input);
  EXPECT_EQ(back.classes, m.classes);
  EXPECT_EQ(back.normalization.mean, m.normalization.mean);
  EXPECT_EQ(back.normalization.std, m.normalization.std);
  EXPECT_EQ(preprocess_style(back), PreprocessStyle::emnist);
  ASSERT_EQ(back.tensors.size(), m.tensors.size());
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    EXPECT_EQ(back.tensors[i].name, m.tensors[i].name);
    EXPECT_EQ(back.tensors[i].dims, m.tensors[i].dims);
    EXPECT_EQ(0, std::memcmp(back.tensors[i].data.data(), m.tensors[i].data.data(), m.tensors[i].data.size() * sizeof(float)))
        << m.tensors[i].name;
  }
}

// The ONNX graph of `m` with its inkwell metadata removed: as another exporter would write it.
onnx::ModelProto foreign(const ModelFile& m) {
  onnx::ModelProto p;
  const std::string bytes = export_onnx(m);
  EXPECT_TRUE(p.ParseFromString(bytes));
  p.clear_metadata_props();
  return p;
}
ModelFile import(const onnx::ModelProto& p, const OnnxImportOptions& options = {}) {
  const std::string bytes = p.SerializeAsString();
  return import_onnx({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "test.onnx", options);
}
std::vector<float> random_images(const ModelFile& m, int64_t n) {
  std::vector<float> x(static_cast<size_t>(n * element_count(m.architecture.input)));
  Rng rng(8);
  for (float& v : x) v = static_cast<float>(rng.uniform(-1, 2));
  return x;
}

TEST(Onnx, ABatchNormAfterAConvIsFoldedIntoIt) {
  ModelFile m = every_kind();
  const ModelFile folded = import(foreign(m));
  EXPECT_EQ(folded.architecture.spec, "conv6k3p1-relu-avgpool2-conv8k3p1-relu-maxpool2-fc12-bn-relu-fc4");
  EXPECT_EQ(folded.classes, (std::vector<std::string>{"0", "1", "2", "3"}));  // no metadata: the defaults
  EXPECT_FLOAT_EQ(folded.normalization.std, kMnistNormalization.std);
  const std::vector<float> x = random_images(m, 7);
  const std::vector<float> a = outputs(m, x, 7), b = outputs(folded, x, 7);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4 * (1 + std::abs(a[i]))) << i;
  OnnxImportOptions options;
  options.classes = {"w", "x", "y", "z"};
  options.normalization = Normalization{0.5f, 0.25f};
  const ModelFile named = import(foreign(m), options);
  EXPECT_EQ(named.classes, options.classes);
  EXPECT_EQ(named.normalization.mean, 0.5f);
}

// A model of `spec` with seeded random weights and classes "0", "1", ...
ModelFile random_model(const std::string& spec, const Dims& input, int classes, uint64_t seed) {
  ModelFile m;
  m.architecture = {spec, input};
  Model model(m.architecture, 1, Mode::infer);
  model.init_params(seed);
  m.tensors = model.state();
  for (int c = 0; c < classes; ++c) m.classes.push_back(std::to_string(c));
  m.normalization = kMnistNormalization;
  return m;
}

TEST(Onnx, MatMulAndAddAreAnFc) {
  const ModelFile m = random_model("fc5", {1, 3, 4}, 5, 2);
  onnx::ModelProto p = foreign(m);
  // Gemm(x, W^T, b) -> MatMul(x, W) then Add(., b), W stored (IN, OUT).
  onnx::GraphProto& g = *p.mutable_graph();
  onnx::NodeProto gemm = g.node(1);
  ASSERT_EQ(gemm.op_type(), "Gemm");
  onnx::TensorProto* w = nullptr;
  for (auto& t : *g.mutable_initializer())
    if (t.name() == gemm.input(1)) w = &t;
  ASSERT_NE(w, nullptr);
  std::vector<float> wt(60);
  const float* v = reinterpret_cast<const float*>(w->raw_data().data());
  for (int o = 0; o < 5; ++o)
    for (int i = 0; i < 12; ++i) wt[i * 5 + o] = v[o * 12 + i];
  w->set_raw_data(wt.data(), wt.size() * sizeof(float));
  w->set_dims(0, 12), w->set_dims(1, 5);
  g.mutable_node()->RemoveLast();
  onnx::NodeProto* matmul = g.add_node();
  matmul->set_op_type("MatMul"), matmul->set_name("mm");
  matmul->add_input(gemm.input(0)), matmul->add_input(gemm.input(1)), matmul->add_output("mm_out");
  onnx::NodeProto* add = g.add_node();
  add->set_op_type("Add"), add->set_name("add");
  add->add_input("mm_out"), add->add_input(gemm.input(2)), add->add_output("logits");
  const ModelFile back = import(p);
  EXPECT_EQ(back.architecture.spec, "fc5");
  for (size_t i = 0; i < m.tensors.size(); ++i) EXPECT_EQ(back.tensors[i].data, m.tensors[i].data) << m.tensors[i].name;
}

// The message importing `p` gives; "" if it imports.
std::string refusal(const onnx::ModelProto& p) {
  try {
    import(p);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Onnx, EveryUnsupportedOpIsNamedWithWhatInkwellTakes) {
  const ModelFile m = random_model("conv4k3p1-relu-fc3", {1, 6, 6}, 3, 1);
  for (const char* op : {"Sigmoid", "Tanh", "LeakyRelu", "Elu", "HardSigmoid", "Selu", "Softplus"}) {
    onnx::ModelProto p = foreign(m);
    p.mutable_graph()->mutable_node(1)->set_op_type(op);  // the ReLU
    const std::string message = refusal(p);
    EXPECT_NE(message.find(std::string("test.onnx: node 'relu1' (") + op + "): not supported; inkwell imports Conv"),
              std::string::npos) << message;
  }
  {
    onnx::ModelProto p = foreign(m);  // a grouped convolution
    onnx::NodeProto* conv = p.mutable_graph()->mutable_node(0);
    onnx::AttributeProto* group = conv->add_attribute();
    group->set_name("group"), group->set_type(onnx::AttributeProto::INT), group->set_i(2);
    EXPECT_NE(refusal(p).find("(Conv)"), std::string::npos) << refusal(p);
  }
  {
    onnx::ModelProto p = foreign(m);  // padding that differs by side
    for (auto& a : *p.mutable_graph()->mutable_node(0)->mutable_attribute())
      if (a.name() == "pads") a.set_ints(0, 0);
    EXPECT_NE(refusal(p).find("node 'conv1' (Conv): the padding is not the same on every side"), std::string::npos) << refusal(p);
  }
  for (const char* name : {"strides", "kernel_shape", "pads"}) {  // onnx's shape inference divides by strides
    onnx::ModelProto p = foreign(m);
    for (auto& a : *p.mutable_graph()->mutable_node(0)->mutable_attribute())
      if (a.name() == name) a.set_ints(0, name == std::string("pads") ? -1 : 0);
    EXPECT_NE(refusal(p).find(std::string("node 'conv1' (Conv) has ") + name), std::string::npos) << refusal(p);
  }
  {
    onnx::ModelProto p = foreign(m);  // an op from another domain
    p.mutable_graph()->mutable_node(1)->set_domain("com.microsoft");
    EXPECT_NE(refusal(p).find("node 'relu1' (Relu): not supported"), std::string::npos) << refusal(p);
  }
  {
    onnx::ModelProto p = foreign(m);  // a second consumer of the input: a branch
    onnx::NodeProto* extra = p.mutable_graph()->add_node();
    extra->set_op_type("Relu"), extra->add_input("input"), extra->add_output("side");
    EXPECT_NE(refusal(p).find("feeds 2 nodes"), std::string::npos) << refusal(p);
  }
  EXPECT_NE(refusal(onnx::ModelProto()).find("not an ONNX model"), std::string::npos);
  const std::string garbage = "\x08\x07\x12\x03onnx garbage";
  try {
    import_onnx({reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size()}, "bad.onnx");
    ADD_FAILURE() << "garbage imported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.onnx: "), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace inkwell
