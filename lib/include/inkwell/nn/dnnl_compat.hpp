// The one place that knows oneDNN 2.x (v2 API: operation descriptors) from 3.x (v3 API:
// primitive descriptors built directly, engine first). Every layer builds its primitive
// descriptors through these functions, with the same arguments under either version; the
// `#if` on DNNL_VERSION_MAJOR lives in dnnl_compat.cpp only (docs/design.md).
//
// Conventions: padding is symmetric (padding_l = padding_r); eltwise and batch norm write dst in
// src's layout; an attr is always given (inkwell runs every primitive with a user scratchpad).
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "inkwell/core/tensor.hpp"

namespace inkwell::compat {

using md = dnnl::memory::desc;

// "oneDNN 3.7.2"
std::string version();

// oneDNN's effective ISA (the CPU's, capped by ONEDNN_MAX_CPU_ISA): "avx512_core_bf16".
std::string isa_name();

// A descriptor's logical dims (v2 desc.dims(), v3 desc.get_dims()).
Dims dims(const md& desc);

// A descriptor's data type (v2 desc.data_type(), v3 desc.get_data_type()).
dnnl::memory::data_type data_type(const md& desc);

// A blocked layout as oneDNN describes it, the same in both versions: dims padded to whole
// blocks, one outer stride per dim (in elements), and the inner blocks, outermost first, with the
// dim each one splits. ABcd16b16a: inner_blks {16, 16}, inner_idxs {1, 0}.
struct Blocking {
  Dims padded_dims, strides, inner_blks, inner_idxs;
  bool operator==(const Blocking&) const = default;
  // The element offset of a logical index (one entry per dim).
  int64_t offset(const Dims& index) const;
  // Whether inner blocks split two or more dims (weights layouts such as OIhw16i16o).
  bool blocked_in_two_dims() const;
};
// Throws unless `desc` is a blocked (strided or blocked) layout.
Blocking blocking(const md& desc);

// A descriptor with `layout`'s dims and blocking but data type `type` and no extra (such as the
// compensation an int8 weights layout may carry), found among oneDNN's format tags; none if no
// tag has that blocking (oneDNN 3.7's inner product picks some that none has).
std::optional<md> like_layout(const md& layout, dnnl::memory::data_type type);

// Whether a descriptor's size is its padded elements alone, with no extra after them.
bool has_no_extra(const md& desc);

// Whether a oneDNN reorder from `from` into `to` may write values to the wrong places, so that
// inkwell must place them itself (nn/reorder.hpp): oneDNN 3.7.0 to 3.8.0, at run time, into a
// layout blocked in two dims from another blocking (oneDNN issue 3280; docs/decisions.md).
bool reorder_may_misplace(const md& from, const md& to);

// Whether an execution argument is a runtime scale (v3 DNNL_ARG_ATTR_SCALES | arg; v2 has none).
bool is_scale_arg(int arg);

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

// Pooling over KxK windows with stride S, no padding: max pooling for int8 inference (inkwell's
// own max pool kernels take f32 and most u8 layouts), average pooling (pooling_avg_exclude_padding)
// for training and inference.
dnnl::pooling_forward::primitive_desc pooling_forward(const dnnl::engine& engine, dnnl::prop_kind prop,
                                                      dnnl::algorithm alg, const md& src, const md& dst, int64_t kernel,
                                                      int64_t stride, const dnnl::primitive_attr& attr);
dnnl::pooling_backward::primitive_desc pooling_backward(const dnnl::engine& engine, dnnl::algorithm alg,
                                                        const md& diff_src, const md& diff_dst, int64_t kernel,
                                                        int64_t stride, const dnnl::pooling_forward::primitive_desc& hint,
                                                        const dnnl::primitive_attr& attr);

// Quantization (docs/int8.md). A scale turns an int8 value into a real one, x = scale * q, with
// zero points at 0. v2 folds all scales into one "output scale" fixed when the primitive is
// created; v3 takes one scale per argument, as memories passed at execution. These functions
// take real-world scales and hide which, returning the execution arguments v3 needs (none in v2).
using ScaleArgs = std::unordered_map<int, dnnl::memory>;

// An int8 convolution or inner product: src (one scale), weights (one per output channel),
// dst (one scale; 0: an f32 dst, unscaled).
ScaleArgs set_int8_scales(dnnl::primitive_attr& attr, const dnnl::engine& engine, float src,
                          const std::vector<float>& weights, float dst);
// The bias such an op takes: real units in v3; accumulator units, bias / (src * weights[oc]), in
// v2, which adds the bias before scaling.
std::vector<float> int8_bias(const std::vector<float>& bias, float src, const std::vector<float>& weights);

// A reorder that multiplies as it converts, to = from * factor: one factor (mask 0), or one per
// index of dimension 0 (mask 1, weights per output channel). Quantises f32 -> int8 (factor
// 1/scale, rounded and saturated) and dequantises (factor scale).
struct ScaledReorder {
  dnnl::reorder::primitive_desc pd;
  ScaleArgs args;
};
ScaledReorder scaled_reorder(const dnnl::engine& engine, const md& from, const md& to,
                             const std::vector<float>& factors, dnnl::primitive_attr attr);

}  // namespace inkwell::compat
