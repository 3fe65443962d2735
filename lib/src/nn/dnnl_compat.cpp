#include "inkwell/nn/dnnl_compat.hpp"

#include <algorithm>
#include <set>
#include <string>

#include "inkwell/core/error.hpp"

namespace inkwell::compat {

using dnnl::algorithm;

std::string version() {
  const dnnl_version_t* v = ::dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

std::string isa_name() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::sse41: return "sse41";
    case isa::avx: return "avx";
    case isa::avx2: return "avx2";
    case isa::avx2_vnni: return "avx2_vnni";
    case isa::avx512_core: return "avx512_core";
    case isa::avx512_core_vnni: return "avx512_core_vnni";
    case isa::avx512_core_bf16: return "avx512_core_bf16";
    case isa::avx512_core_amx: return "avx512_core_amx";
    default: return "isa " + std::to_string(static_cast<int>(dnnl::get_effective_cpu_isa()));
  }
}

int64_t Blocking::offset(const Dims& index) const {
  Dims outer = index;
  int64_t off = 0, block_stride = 1;
  for (size_t k = inner_blks.size(); k-- > 0;) {  // innermost block first
    const auto d = static_cast<size_t>(inner_idxs[k]);
    off += outer[d] % inner_blks[k] * block_stride;
    block_stride *= inner_blks[k];
    outer[d] /= inner_blks[k];
  }
  for (size_t d = 0; d < outer.size(); ++d) off += outer[d] * strides[d];
  return off;
}

bool Blocking::blocked_in_two_dims() const {
  return std::set<int64_t>(inner_idxs.begin(), inner_idxs.end()).size() >= 2;
}

bool has_no_extra(const md& desc) {
  return desc.get_size() ==
         static_cast<size_t>(element_count(blocking(desc).padded_dims)) * dnnl::memory::data_type_size(data_type(desc));
}

bool reorder_may_misplace(const md& from, const md& to) {
  const dnnl_version_t* v = ::dnnl_version();
  const bool affected = v->major == 3 && (v->minor == 7 || (v->minor == 8 && v->patch == 0));
  if (!affected) return false;
  const Blocking target = blocking(to);
  return target.blocked_in_two_dims() && !(blocking(from) == target);
}

#if DNNL_VERSION_MAJOR >= 3

Dims dims(const md& desc) { return desc.get_dims(); }

Blocking blocking(const md& desc) {
  if (desc.get_format_kind() != dnnl::memory::format_kind::blocked)
    throw error("a ", to_string(desc.get_dims()), " memory layout of format kind ", static_cast<int>(desc.get_format_kind()),
                " is not blocked");
  return {desc.get_padded_dims(), desc.get_strides(), desc.get_inner_blks(), desc.get_inner_idxs()};
}

std::optional<md> like_layout(const md& layout, dnnl::memory::data_type type) {
  const Blocking want = blocking(layout);
  const Dims d = layout.get_dims();
  for (int tag = dnnl_a; tag < dnnl_format_tag_last; ++tag) {  // after undef and any
    dnnl_memory_desc_t c = nullptr;
    if (dnnl_memory_desc_create_with_tag(&c, static_cast<int>(d.size()), d.data(), static_cast<dnnl_data_type_t>(type),
                                         static_cast<dnnl_format_tag_t>(tag)) != dnnl_success)
      continue;
    md candidate(c);  // owns c
    if (blocking(candidate) == want) return candidate;
  }
  return std::nullopt;
}

dnnl::memory::data_type data_type(const md& desc) { return desc.get_data_type(); }

bool is_scale_arg(int arg) { return (arg & DNNL_ARG_ATTR_SCALES) != 0; }

void append_relu(dnnl::post_ops& ops) { ops.append_eltwise(algorithm::eltwise_relu, 0.f, 0.f); }

dnnl::convolution_forward::primitive_desc conv_forward(const dnnl::engine& engine, dnnl::prop_kind prop, const md& src,
                                                       const md& weights, const md& bias, const md& dst,
                                                       const Dims& strides, const Dims& padding,
                                                       const dnnl::primitive_attr& attr) {
  return {engine, prop, algorithm::convolution_direct, src, weights, bias, dst, strides, padding, padding, attr};
}

dnnl::convolution_backward_data::primitive_desc conv_backward_data(
    const dnnl::engine& engine, const md& diff_src, const md& weights, const md& diff_dst, const Dims& strides,
    const Dims& padding, const dnnl::convolution_forward::primitive_desc& hint, const dnnl::primitive_attr& attr) {
  return {engine, algorithm::convolution_direct, diff_src, weights, diff_dst, strides, padding, padding, hint, attr};
}

dnnl::convolution_backward_weights::primitive_desc conv_backward_weights(
    const dnnl::engine& engine, const md& src, const md& diff_weights, const md& diff_bias, const md& diff_dst,
    const Dims& strides, const Dims& padding, const dnnl::convolution_forward::primitive_desc& hint,
    const dnnl::primitive_attr& attr) {
  return {engine, algorithm::convolution_direct, src, diff_weights, diff_bias, diff_dst, strides, padding, padding,
          hint, attr};
}

dnnl::inner_product_forward::primitive_desc inner_product_forward(const dnnl::engine& engine, dnnl::prop_kind prop,
                                                                  const md& src, const md& weights, const md& bias,
                                                                  const md& dst, const dnnl::primitive_attr& attr) {
  return {engine, prop, src, weights, bias, dst, attr};
}

dnnl::inner_product_backward_data::primitive_desc inner_product_backward_data(
    const dnnl::engine& engine, const md& diff_src, const md& weights, const md& diff_dst,
    const dnnl::inner_product_forward::primitive_desc& hint, const dnnl::primitive_attr& attr) {
  return {engine, diff_src, weights, diff_dst, hint, attr};
}

dnnl::inner_product_backward_weights::primitive_desc inner_product_backward_weights(
    const dnnl::engine& engine, const md& src, const md& diff_weights, const md& diff_bias, const md& diff_dst,
    const dnnl::inner_product_forward::primitive_desc& hint, const dnnl::primitive_attr& attr) {
  return {engine, src, diff_weights, diff_bias, diff_dst, hint, attr};
}

dnnl::eltwise_forward::primitive_desc eltwise_forward(const dnnl::engine& engine, dnnl::prop_kind prop,
                                                      algorithm alg, const md& data,
                                                      const dnnl::primitive_attr& attr) {
  return {engine, prop, alg, data, data, 0.f, 0.f, attr};
}

dnnl::eltwise_backward::primitive_desc eltwise_backward(const dnnl::engine& engine, algorithm alg,
                                                        const md& diff_dst, const md& data,
                                                        const dnnl::eltwise_forward::primitive_desc& hint,
                                                        const dnnl::primitive_attr& attr) {
  return {engine, alg, data, diff_dst, data, 0.f, 0.f, hint, attr};
}

dnnl::batch_normalization_forward::primitive_desc batch_norm_forward(const dnnl::engine& engine,
                                                                     dnnl::prop_kind prop, const md& src,
                                                                     float epsilon, dnnl::normalization_flags flags,
                                                                     const dnnl::primitive_attr& attr) {
  return {engine, prop, src, src, epsilon, flags, attr};
}

dnnl::batch_normalization_backward::primitive_desc batch_norm_backward(
    const dnnl::engine& engine, const md& diff_dst, const md& src, float epsilon, dnnl::normalization_flags flags,
    const dnnl::batch_normalization_forward::primitive_desc& hint, const dnnl::primitive_attr& attr) {
  return {engine, dnnl::prop_kind::backward, src, diff_dst, src, epsilon, flags, hint, attr};
}

dnnl::pooling_forward::primitive_desc pooling_forward(const dnnl::engine& engine, dnnl::prop_kind prop,
                                                      algorithm alg, const md& src, const md& dst, int64_t kernel,
                                                      int64_t stride, const dnnl::primitive_attr& attr) {
  return {engine, prop, alg, src, dst, {stride, stride}, {kernel, kernel}, {0, 0}, {0, 0}, {0, 0}, attr};
}

dnnl::pooling_backward::primitive_desc pooling_backward(const dnnl::engine& engine, algorithm alg, const md& diff_src,
                                                        const md& diff_dst, int64_t kernel, int64_t stride,
                                                        const dnnl::pooling_forward::primitive_desc& hint,
                                                        const dnnl::primitive_attr& attr) {
  return {engine, alg, diff_src, diff_dst, {stride, stride}, {kernel, kernel}, {0, 0}, {0, 0}, {0, 0}, hint, attr};
}

namespace {
dnnl::memory scale_memory(const dnnl::engine& engine, const std::vector<float>& values) {
  dnnl::memory m({{static_cast<int64_t>(values.size())}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a},
                 engine);
  std::copy(values.begin(), values.end(), static_cast<float*>(m.get_data_handle()));
  return m;
}
}  // namespace

ScaleArgs set_int8_scales(dnnl::primitive_attr& attr, const dnnl::engine& engine, float src,
                          const std::vector<float>& weights, float dst) {
  ScaleArgs args;
  attr.set_scales_mask(DNNL_ARG_SRC, 0);
  args[DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC] = scale_memory(engine, {src});
  attr.set_scales_mask(DNNL_ARG_WEIGHTS, weights.size() > 1 ? 1 : 0);  // output channels: dim 0
  args[DNNL_ARG_ATTR_SCALES | DNNL_ARG_WEIGHTS] = scale_memory(engine, weights);
  if (dst != 0) {
    attr.set_scales_mask(DNNL_ARG_DST, 0);
    args[DNNL_ARG_ATTR_SCALES | DNNL_ARG_DST] = scale_memory(engine, {dst});
  }
  return args;
}

std::vector<float> int8_bias(const std::vector<float>& bias, float, const std::vector<float>&) { return bias; }

ScaledReorder scaled_reorder(const dnnl::engine& engine, const md& from, const md& to,
                             const std::vector<float>& factors, dnnl::primitive_attr attr) {
  // v3: to = from * src_scale / dst_scale; the factor becomes a dst scale of 1 / factor.
  std::vector<float> inverse(factors.size());
  for (size_t i = 0; i < factors.size(); ++i) inverse[i] = 1.f / factors[i];
  attr.set_scales_mask(DNNL_ARG_DST, factors.size() > 1 ? 1 : 0);
  return {dnnl::reorder::primitive_desc(engine, from, engine, to, attr),
          {{DNNL_ARG_ATTR_SCALES | DNNL_ARG_DST, scale_memory(engine, inverse)}}};
}

#else  // oneDNN 2.x: an operation descriptor first, then its primitive descriptor

Dims dims(const md& desc) { return desc.dims(); }

Blocking blocking(const md& desc) {
  if (desc.data.format_kind != dnnl_blocked) throw error("not a blocked memory layout");
  const int n = desc.data.ndims;
  const auto& b = desc.data.format_desc.blocking;
  return {Dims(desc.data.padded_dims, desc.data.padded_dims + n), Dims(b.strides, b.strides + n),
          Dims(b.inner_blks, b.inner_blks + b.inner_nblks), Dims(b.inner_idxs, b.inner_idxs + b.inner_nblks)};
}

std::optional<md> like_layout(const md& layout, dnnl::memory::data_type type) {
  const Blocking want = blocking(layout);
  const Dims d = layout.dims();
  for (int tag = dnnl_a; tag < dnnl_format_tag_last; ++tag) {  // after undef and any
    dnnl_memory_desc_t c;
    if (dnnl_memory_desc_init_by_tag(&c, static_cast<int>(d.size()), d.data(), static_cast<dnnl_data_type_t>(type),
                                     static_cast<dnnl_format_tag_t>(tag)) != dnnl_success)
      continue;
    const md candidate(c);
    if (blocking(candidate) == want) return candidate;
  }
  return std::nullopt;
}

dnnl::memory::data_type data_type(const md& desc) { return desc.data_type(); }

bool is_scale_arg(int) { return false; }

void append_relu(dnnl::post_ops& ops) { ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f); }

dnnl::convolution_forward::primitive_desc conv_forward(const dnnl::engine& engine, dnnl::prop_kind prop, const md& src,
                                                       const md& weights, const md& bias, const md& dst,
                                                       const Dims& strides, const Dims& padding,
                                                       const dnnl::primitive_attr& attr) {
  return {{prop, algorithm::convolution_direct, src, weights, bias, dst, strides, padding, padding}, attr, engine};
}

dnnl::convolution_backward_data::primitive_desc conv_backward_data(
    const dnnl::engine& engine, const md& diff_src, const md& weights, const md& diff_dst, const Dims& strides,
    const Dims& padding, const dnnl::convolution_forward::primitive_desc& hint, const dnnl::primitive_attr& attr) {
  return {{algorithm::convolution_direct, diff_src, weights, diff_dst, strides, padding, padding}, attr, engine, hint};
}

dnnl::convolution_backward_weights::primitive_desc conv_backward_weights(
    const dnnl::engine& engine, const md& src, const md& diff_weights, const md& diff_bias, const md& diff_dst,
    const Dims& strides, const Dims& padding, const dnnl::convolution_forward::primitive_desc& hint,
    const dnnl::primitive_attr& attr) {
  return {{algorithm::convolution_direct, src, diff_weights, diff_bias, diff_dst, strides, padding, padding},
          attr, engine, hint};
}

dnnl::inner_product_forward::primitive_desc inner_product_forward(const dnnl::engine& engine, dnnl::prop_kind prop,
                                                                  const md& src, const md& weights, const md& bias,
                                                                  const md& dst, const dnnl::primitive_attr& attr) {
  return {{prop, src, weights, bias, dst}, attr, engine};
}

dnnl::inner_product_backward_data::primitive_desc inner_product_backward_data(
    const dnnl::engine& engine, const md& diff_src, const md& weights, const md& diff_dst,
    const dnnl::inner_product_forward::primitive_desc& hint, const dnnl::primitive_attr& attr) {
  return {{diff_src, weights, diff_dst}, attr, engine, hint};
}

dnnl::inner_product_backward_weights::primitive_desc inner_product_backward_weights(
    const dnnl::engine& engine, const md& src, const md& diff_weights, const md& diff_bias, const md& diff_dst,
    const dnnl::inner_product_forward::primitive_desc& hint, const dnnl::primitive_attr& attr) {
  return {{src, diff_weights, diff_bias, diff_dst}, attr, engine, hint};
}

dnnl::eltwise_forward::primitive_desc eltwise_forward(const dnnl::engine& engine, dnnl::prop_kind prop,
                                                      algorithm alg, const md& data,
                                                      const dnnl::primitive_attr& attr) {
  return {{prop, alg, data, 0.f, 0.f}, attr, engine};
}

dnnl::eltwise_backward::primitive_desc eltwise_backward(const dnnl::engine& engine, algorithm alg,
                                                        const md& diff_dst, const md& data,
                                                        const dnnl::eltwise_forward::primitive_desc& hint,
                                                        const dnnl::primitive_attr& attr) {
  return {{alg, diff_dst, data, 0.f, 0.f}, attr, engine, hint};
}

dnnl::batch_normalization_forward::primitive_desc batch_norm_forward(const dnnl::engine& engine,
                                                                     dnnl::prop_kind prop, const md& src,
                                                                     float epsilon, dnnl::normalization_flags flags,
                                                                     const dnnl::primitive_attr& attr) {
  return {{prop, src, epsilon, flags}, attr, engine};
}

dnnl::batch_normalization_backward::primitive_desc batch_norm_backward(
    const dnnl::engine& engine, const md& diff_dst, const md& src, float epsilon, dnnl::normalization_flags flags,
    const dnnl::batch_normalization_forward::primitive_desc& hint, const dnnl::primitive_attr& attr) {
  return {{dnnl::prop_kind::backward, diff_dst, src, epsilon, flags}, attr, engine, hint};
}

dnnl::pooling_forward::primitive_desc pooling_forward(const dnnl::engine& engine, dnnl::prop_kind prop,
                                                      algorithm alg, const md& src, const md& dst, int64_t kernel,
                                                      int64_t stride, const dnnl::primitive_attr& attr) {
  return {{prop, alg, src, dst, {stride, stride}, {kernel, kernel}, {0, 0}, {0, 0}}, attr, engine};
}

dnnl::pooling_backward::primitive_desc pooling_backward(const dnnl::engine& engine, algorithm alg, const md& diff_src,
                                                        const md& diff_dst, int64_t kernel, int64_t stride,
                                                        const dnnl::pooling_forward::primitive_desc& hint,
                                                        const dnnl::primitive_attr& attr) {
  return {{alg, diff_src, diff_dst, {stride, stride}, {kernel, kernel}, {0, 0}, {0, 0}}, attr, engine, hint};
}

ScaleArgs set_int8_scales(dnnl::primitive_attr& attr, const dnnl::engine&, float src,
                          const std::vector<float>& weights, float dst) {
  // v2: dst = output_scale[oc] * (acc + bias), output_scale = src * weights[oc] / dst.
  std::vector<float> output(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) output[i] = src * weights[i] / (dst != 0 ? dst : 1.f);
  attr.set_output_scales(weights.size() > 1 ? 1 << 1 : 0, output);  // output channels: dst dim 1
  return {};
}

std::vector<float> int8_bias(const std::vector<float>& bias, float src, const std::vector<float>& weights) {
  std::vector<float> out(bias.size());
  for (size_t i = 0; i < bias.size(); ++i) out[i] = bias[i] / (src * weights[weights.size() > 1 ? i : 0]);
  return out;
}

ScaledReorder scaled_reorder(const dnnl::engine& engine, const md& from, const md& to,
                             const std::vector<float>& factors, dnnl::primitive_attr attr) {
  attr.set_output_scales(factors.size() > 1 ? 1 : 0, factors);
  return {dnnl::reorder::primitive_desc(engine, from, engine, to, attr), {}};
}

#endif

}  // namespace inkwell::compat
