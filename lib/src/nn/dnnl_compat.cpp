#include "inkwell/nn/dnnl_compat.hpp"

#include <string>

namespace inkwell::compat {

using dnnl::algorithm;

std::string version() {
  const dnnl_version_t* v = ::dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

#if DNNL_VERSION_MAJOR >= 3

Dims dims(const md& desc) { return desc.get_dims(); }

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

#else  // oneDNN 2.x: an operation descriptor first, then its primitive descriptor

Dims dims(const md& desc) { return desc.dims(); }

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

#endif

}  // namespace inkwell::compat
