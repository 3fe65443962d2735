// The one place that knows oneDNN 2.x (v2 API: operation descriptors) from 3.x (v3 API:
// primitive descriptors built directly, engine first). Every layer builds its primitive
// descriptors through these functions, with the same arguments under either version; the
// `#if` on DNNL_VERSION_MAJOR lives in dnnl_compat.cpp only (docs/design.md).
//
// Conventions: padding is symmetric (padding_l = padding_r); eltwise and batch norm write dst in
// src's layout; an attr is always given (inkwell runs every primitive with a user scratchpad).
#pragma once

#include <string>

#include <oneapi/dnnl/dnnl.hpp>

#include "inkwell/nn/tensor.hpp"

namespace inkwell::compat {

using md = dnnl::memory::desc;

// "oneDNN 3.7.2"
std::string version();

// A descriptor's logical dims (v2 desc.dims(), v3 desc.get_dims()).
Dims dims(const md& desc);

// Appends a ReLU (slope 0) to post-ops (v2 took a leading scale argument, v3 does not).
void append_relu(dnnl::post_ops& ops);

// Convolution, direct algorithm. src (N, IC, H, W), weights (OC, IC, K, K), bias (OC), dst (N, OC, OH, OW).
dnnl::convolution_forward::primitive_desc conv_forward(const dnnl::engine& engine, dnnl::prop_kind prop, const md& src,
                                                       const md& weights, const md& bias, const md& dst,
                                                       const Dims& strides, const Dims& padding,
                                                       const dnnl::primitive_attr& attr);
dnnl::convolution_backward_data::primitive_desc conv_backward_data(
    const dnnl::engine& engine, const md& diff_src, const md& weights, const md& diff_dst, const Dims& strides,
    const Dims& padding, const dnnl::convolution_forward::primitive_desc& hint, const dnnl::primitive_attr& attr);
dnnl::convolution_backward_weights::primitive_desc conv_backward_weights(
    const dnnl::engine& engine, const md& src, const md& diff_weights, const md& diff_bias, const md& diff_dst,
    const Dims& strides, const Dims& padding, const dnnl::convolution_forward::primitive_desc& hint,
    const dnnl::primitive_attr& attr);

// Inner product. src (N, C[, H, W]), weights (OC, C[, H, W]), bias (OC), dst (N, OC).
dnnl::inner_product_forward::primitive_desc inner_product_forward(const dnnl::engine& engine, dnnl::prop_kind prop,
                                                                  const md& src, const md& weights, const md& bias,
                                                                  const md& dst, const dnnl::primitive_attr& attr);
dnnl::inner_product_backward_data::primitive_desc inner_product_backward_data(
    const dnnl::engine& engine, const md& diff_src, const md& weights, const md& diff_dst,
    const dnnl::inner_product_forward::primitive_desc& hint, const dnnl::primitive_attr& attr);
dnnl::inner_product_backward_weights::primitive_desc inner_product_backward_weights(
    const dnnl::engine& engine, const md& src, const md& diff_weights, const md& diff_bias, const md& diff_dst,
    const dnnl::inner_product_forward::primitive_desc& hint, const dnnl::primitive_attr& attr);

// Element-wise op with alpha = beta = 0; dst and diff_src in the layout of `data`.
dnnl::eltwise_forward::primitive_desc eltwise_forward(const dnnl::engine& engine, dnnl::prop_kind prop,
                                                      dnnl::algorithm alg, const md& data,
                                                      const dnnl::primitive_attr& attr);
dnnl::eltwise_backward::primitive_desc eltwise_backward(const dnnl::engine& engine, dnnl::algorithm alg,
                                                        const md& diff_dst, const md& data,
                                                        const dnnl::eltwise_forward::primitive_desc& hint,
                                                        const dnnl::primitive_attr& attr);

// Batch normalization over src (N, C[, H, W]); dst and diff_src in src's layout.
dnnl::batch_normalization_forward::primitive_desc batch_norm_forward(const dnnl::engine& engine,
                                                                     dnnl::prop_kind prop, const md& src,
                                                                     float epsilon, dnnl::normalization_flags flags,
                                                                     const dnnl::primitive_attr& attr);
// Batch norm backward's arguments differ in one point: oneDNN 2.6 rejects the call without
// DNNL_ARG_SHIFT (which it does not use), 3.x rejects it with ("bad number of inputs").
inline constexpr bool batch_norm_backward_takes_shift = DNNL_VERSION_MAJOR < 3;
dnnl::batch_normalization_backward::primitive_desc batch_norm_backward(
    const dnnl::engine& engine, const md& diff_dst, const md& src, float epsilon, dnnl::normalization_flags flags,
    const dnnl::batch_normalization_forward::primitive_desc& hint, const dnnl::primitive_attr& attr);

}  // namespace inkwell::compat
