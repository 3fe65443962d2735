// Reorders (nn/reorder.hpp) into every weights layout oneDNN's primitives ask for, on this CPU and
// oneDNN version, with 1 and 2 threads: each value must land where the layout's blocking says,
// and the padding must be zero. oneDNN 3.7's own reorder misplaces values into layouts blocked
// in two dims (docs/decisions.md); these tests fail there without inkwell's placement.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "inkwell/nn/bf16.hpp"
#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/nn/params.hpp"
#include "inkwell/nn/reorder.hpp"

namespace inkwell {
namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

// A layer shape: a convolution (kernel > 0) or an inner product (kernel 0) with src (N, IC, H, W).
struct Shape {
  int64_t batch, ic, oc, hw, kernel;
};
struct Case {
  Shape shape;
  int threads;
};
void PrintTo(const Case& c, std::ostream* os) {
  *os << (c.shape.kernel ? "conv " : "fc ") << c.shape.batch << "x" << c.shape.ic << "x" << c.shape.hw << "x"
      << c.shape.hw << " -> " << c.shape.oc << ", " << c.threads << " thread(s)";
}

// Calls f(index, inside) for every index of the padded dims; inside: within the logical dims.
template <class F>
void for_each_padded(const Dims& dims, const Dims& padded, F f) {
  Dims i(dims.size(), 0);
  for (;;) {
    bool inside = true;
    for (size_t d = 0; d < dims.size(); ++d) inside = inside && i[d] < dims[d];
    f(i, inside);
    size_t d = dims.size();
    while (d-- > 0 && ++i[d] == padded[d]) i[d] = 0;
    if (d == static_cast<size_t>(-1)) return;
  }
}

int64_t plain_index(const Dims& dims, const Dims& i) {
  int64_t k = 0;
  for (size_t d = 0; d < dims.size(); ++d) k = k * dims[d] + i[d];
  return k;
}

// Values exact in f32, bf16 and s8 (scale 1): small integers, distinct neighbours.
float value(int64_t k) { return static_cast<float>(k % 251 - 125); }

float read(const memory& m, int64_t offset) {
  const void* p = m.get_data_handle();
  switch (compat::data_type(m.get_desc())) {
    case dt::f32: return static_cast<const float*>(p)[offset];
    case dt::bf16: {
      uint32_t bits = uint32_t{static_cast<const uint16_t*>(p)[offset]} << 16;
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return f;
    }
    case dt::s8: return static_cast<const int8_t*>(p)[offset];
    default: ADD_FAILURE() << "unexpected data type"; return 0;
  }
}

// Reorders plain values into `want` (scaled by 1 when int8) and checks every element: exact, or
// for s8 exact at the one weight scale adjustment oneDNN applied (1, or 0.5 for s8 sources
// without VNNI). Returns a description of the first failure, or "".
std::string check_layout(const dnnl::engine& engine, const std::string& what, const memory::desc& want) {
  const Dims dims = compat::dims(want);
  std::vector<float> plain(element_count(dims));
  for (size_t k = 0; k < plain.size(); ++k) plain[k] = value(static_cast<int64_t>(k));
  const memory from(plain_desc(dims), engine, plain.data());
  const memory to(want, engine);
  std::memset(to.get_data_handle(), 0x5a, want.get_size());
  const bool int8 = compat::data_type(want) == dt::s8;
  reorder_now(from, to, int8 ? std::vector<float>(dims[0], 1.f) : std::vector<float>{});

  const compat::Blocking b = compat::blocking(want);
  int64_t wrong[2] = {0, 0}, padding = 0;  // int8: at adjustment 1 and 0.5
  for_each_padded(dims, b.padded_dims, [&](const Dims& i, bool inside) {
    const float got = read(to, b.offset(i));
    if (!inside) {
      padding += got != 0;
      return;
    }
    const float v = value(plain_index(dims, i));
    wrong[0] += got != v;
    wrong[1] += got != std::nearbyint(v * 0.5f);
  });
  const int64_t misplaced = int8 ? std::min(wrong[0], wrong[1]) : wrong[0];
  if (misplaced == 0 && padding == 0) return "";
  std::ostringstream os;
  os << what << " (" << to_string(dims) << ", " << compat::version() << "): " << misplaced << " of "
     << element_count(dims) << " values misplaced, " << padding << " padding values not zero";
  return os.str();
}

class ReorderTest : public ::testing::TestWithParam<Case> {};

TEST_P(ReorderTest, EveryWeightsLayoutThePrimitivesAskForGetsEveryValueInPlace) {
  const Case& c = GetParam();
  const int caller_threads = omp_get_max_threads();
  omp_set_num_threads(c.threads);  // before the primitives are made: oneDNN fixes its split then
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const Shape& s = c.shape;
  const bool conv = s.kernel > 0;
  const int64_t out_hw = conv ? s.hw : 1;
  const Dims src = {s.batch, s.ic, s.hw, s.hw}, weights = {s.oc, s.ic, conv ? s.kernel : s.hw, conv ? s.kernel : s.hw};
  const Dims dst = conv ? Dims{s.batch, s.oc, out_hw, out_hw} : Dims{s.batch, s.oc};
  const Dims bias = {s.oc}, strides = {1, 1}, padding = {s.kernel / 2, s.kernel / 2};
  auto any = [](const Dims& d, dt type = dt::f32) { return memory::desc(d, type, tag::any); };
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

  std::vector<std::pair<std::string, memory::desc>> layouts;
  if (conv) {
    const auto fwd = compat::conv_forward(engine, dnnl::prop_kind::forward_training, any(src), any(weights), any(bias),
                                          any(dst), strides, padding, attr);
    layouts.emplace_back("conv forward f32", fwd.weights_desc());
    layouts.emplace_back("conv backward data f32",
                         compat::conv_backward_data(engine, any(src), any(weights), any(dst), strides, padding, fwd, attr)
                             .weights_desc());
    layouts.emplace_back("conv backward weights f32",
                         compat::conv_backward_weights(engine, any(src), any(weights), any(bias), any(dst), strides,
                                                       padding, fwd, attr)
                             .diff_weights_desc());
    if (cpu_has_native_bf16())
      layouts.emplace_back("conv forward bf16",
                           compat::conv_forward(engine, dnnl::prop_kind::forward_training, any(src, dt::bf16),
                                                any(weights, dt::bf16), any(bias), any(dst), strides, padding, attr)
                               .weights_desc());
  } else {
    const auto fwd = compat::inner_product_forward(engine, dnnl::prop_kind::forward_training, any(src), any(weights),
                                                   any(bias), any(dst), attr);
    layouts.emplace_back("fc forward f32", fwd.weights_desc());
    layouts.emplace_back("fc backward data f32",
                         compat::inner_product_backward_data(engine, any(src), any(weights), any(dst), fwd, attr)
                             .weights_desc());
    layouts.emplace_back("fc backward weights f32",
                         compat::inner_product_backward_weights(engine, any(src), any(weights), any(bias), any(dst), fwd, attr)
                             .diff_weights_desc());
  }
  for (const dt src_type : {dt::s8, dt::u8}) {
    dnnl::primitive_attr int8_attr = attr;
    compat::set_int8_scales(int8_attr, engine, 0.1f, std::vector<float>(s.oc, 0.01f), 0.f);
    const std::string name = std::string(conv ? "conv" : "fc") + " int8, " + (src_type == dt::s8 ? "s8" : "u8") + " src";
    layouts.emplace_back(name, conv ? compat::conv_forward(engine, dnnl::prop_kind::forward_inference, any(src, src_type),
                                                           any(weights, dt::s8), any(bias), any(dst), strides, padding,
                                                           int8_attr).weights_desc()
                                    : compat::inner_product_forward(engine, dnnl::prop_kind::forward_inference,
                                                                    any(src, src_type), any(weights, dt::s8), any(bias),
                                                                    any(dst), int8_attr).weights_desc());
  }
  for (const auto& [what, desc] : layouts) EXPECT_EQ(check_layout(engine, what, desc), "");
  omp_set_num_threads(caller_threads);
}

// Shapes whose channel counts pad (1, 3, 17, 20) and do not (16, 32), at batch sizes that make
// oneDNN choose other kernels and layouts.
std::vector<Case> cases() {
  std::vector<Case> out;
  for (const Shape& s : {Shape{64, 1, 16, 28, 5}, Shape{7, 1, 8, 28, 5}, Shape{64, 16, 32, 14, 5}, Shape{1, 8, 16, 14, 5},
                         Shape{7, 3, 20, 9, 3}, Shape{64, 17, 3, 5, 3}, Shape{2, 20, 10, 7, 3}, Shape{64, 32, 10, 7, 0},
                         Shape{7, 6, 5, 3, 0}, Shape{1, 800, 10, 1, 0}, Shape{64, 64, 128, 7, 0}})
    for (const int threads : {1, 2}) out.push_back({s, threads});
  return out;
}
INSTANTIATE_TEST_SUITE_P(Shapes, ReorderTest, ::testing::ValuesIn(cases()));

// Blocking::offset, which the checks above trust, against oneDNN's reorder out of blocked layouts
// (which is right in every version): inkwell places plain values into a layout, oneDNN brings
// them back.
TEST(Placement, AgreesWithOneDnnReadingBlockedLayoutsBack) {
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  for (const auto& [dims, layout] : {std::pair{Dims{5, 6, 3, 3}, tag::BAcd16b16a}, {Dims{16, 8, 5, 5}, tag::OIhw16i16o},
                                     {Dims{8, 1, 5, 5}, tag::ABcd4b16a4b}, {Dims{10, 3, 3, 3}, tag::Acdb16a},
                                     {Dims{3, 20, 7, 7}, tag::aBcd16b}, {Dims{7, 33}, tag::AB16b16a}}) {
    std::vector<float> plain(element_count(dims));
    for (size_t k = 0; k < plain.size(); ++k) plain[k] = value(static_cast<int64_t>(k));
    const memory::desc blocked(dims, dt::f32, layout);
    const memory from(plain_desc(dims), engine, plain.data()), mid(blocked, engine), back(plain_desc(dims), engine);
    Placement(from.get_desc(), blocked).run(from.get_data_handle(), mid.get_data_handle());
    dnnl::reorder(mid, back).execute(stream, const_cast<memory&>(mid), const_cast<memory&>(back));
    stream.wait();
    const float* b = static_cast<const float*>(back.get_data_handle());
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), b)) << to_string(dims) << " through format tag " << static_cast<int>(layout);
  }
}

}  // namespace
}  // namespace inkwell
