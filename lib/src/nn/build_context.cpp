#include "inkwell/nn/build_context.hpp"

#include "inkwell/core/error.hpp"
#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/nn/reorder.hpp"

namespace inkwell {

using dnnl::memory;

void check_args(const Op& op) {
  if (op.kernel) return;
  for (const auto& [arg, m] : op.args) {
    const auto want = op.wants.find(arg);
    if (want == op.wants.end()) throw error(op.name, ": argument ", arg, " is not one its primitive reported");
    // Runtime scales are plain f32 vectors by oneDNN's API; it reports no descriptor for them.
    if (compat::is_scale_arg(arg) && want->second == memory::desc()) continue;
    if (m.get_desc() != want->second)
      throw error(op.name, ": argument ", arg, " has another memory layout than its primitive (", op.impl, ") reports");
  }
}

dnnl::primitive_attr BuildContext::attr(bool fuse_relu) const {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (fuse_relu) {
    dnnl::post_ops ops;
    compat::append_relu(ops);
    attr.set_post_ops(ops);
  }
  return attr;
}

void BuildContext::append(OpList& ops, const std::string& name, const dnnl::primitive_desc_base& pd,
                          std::unordered_map<int, memory> args) {
  std::unordered_map<int, memory::desc> wants;
  for (const auto& [arg, m] : args) wants[arg] = pd.query_md(dnnl::query::exec_arg_md, arg);
  wants[DNNL_ARG_SCRATCHPAD] = pd.scratchpad_desc();
  Op op{dnnl::primitive(pd.get()), std::move(args), pd.scratchpad_desc(), name, pd.impl_info_str(), {}, std::move(wants)};
  check_args(op);
  ops.push_back(std::move(op));
}

void BuildContext::append_reorder(OpList& ops, const std::string& name, const memory& from, const memory& to,
                                  const std::vector<float>& factors) {
  const std::vector<ReorderStep> steps = plan_reorder(engine, from.get_desc(), to.get_desc(), factors, attr());
  memory in = from;
  for (size_t i = 0; i < steps.size(); ++i) {
    const ReorderStep& step = steps[i];
    const memory out = i + 1 == steps.size() ? to : allocate(step.out);
    if (step.place) {
      append_kernel(ops, name + " place", step.impl(),
                    [place = *step.place, in, out] { place.run(in.get_data_handle(), out.get_data_handle()); });
    } else {
      std::unordered_map<int, memory> args = step.convert->args;
      args[DNNL_ARG_FROM] = in;
      args[DNNL_ARG_TO] = out;
      append(ops, name, step.convert->pd, std::move(args));
    }
    in = out;
  }
}

void BuildContext::append_into(OpList& ops, const std::string& name, const dnnl::primitive_desc_base& pd,
                               std::unordered_map<int, memory> args, int out_arg, const memory& out,
                               const memory::desc& produced) {
  if (produced == out.get_desc()) {
    args[out_arg] = out;
    append(ops, name, pd, std::move(args));
    return;
  }
  const memory tmp = allocate(produced);
  args[out_arg] = tmp;
  append(ops, name, pd, std::move(args));
  append_reorder(ops, name + " reorder", tmp, out);
}

BuildContext::WeightedForward BuildContext::append_weighted_forward(const std::string& layer,
                                                                   const dnnl::primitive_desc& pd, const memory& src,
                                                                   const Dims& weights_dims, int64_t fan_in) {
  const Param& weights = params.add(layer + ".weights", weights_dims, pd.weights_desc(0), fan_in);
  const Param& bias = params.add(layer + ".bias", {weights_dims[0]}, pd.weights_desc(1), fan_in);
  WeightedForward f{convert(forward, layer + " src", src, pd.src_desc()), weights.value, allocate(pd.dst_desc()),
                    weights.grad, bias.grad};
  append(forward, layer + " forward", pd,
         {{DNNL_ARG_SRC, f.src}, {DNNL_ARG_WEIGHTS, f.weights}, {DNNL_ARG_BIAS, bias.value}, {DNNL_ARG_DST, f.dst}});
  return f;
}

namespace {

// The arena's plain weights (OC, C, H, W) as the plain tensor `weights` (a primitive's) takes:
// the same values when its dims are the arena's or (OC, C*H*W); (OC, H, W, C) when channels_last.
memory plain_weights_for(const memory& weights, const Dims& dims, std::vector<float>& values, bool channels_last) {
  if (channels_last) {
    const int64_t oc = dims[0], c = dims[1], hw = dims[2] * dims[3];
    std::vector<float> permuted(values.size());
    for (int64_t o = 0; o < oc; ++o)
      for (int64_t i = 0; i < c; ++i)
        for (int64_t p = 0; p < hw; ++p) permuted[(o * hw + p) * c + i] = values[(o * c + i) * hw + p];
    values = std::move(permuted);
  }
  return memory(plain_desc(compat::dims(weights.get_desc())), weights.get_engine(), values.data());
}

}  // namespace

memory BuildContext::append_flat_forward(const std::string& layer, const dnnl::primitive_desc& pd, const memory& src,
                                         const Dims& weights_dims, int64_t fan_in, bool channels_last) {
  const Param& w = params.add(layer + ".weights", weights_dims, plain_desc(weights_dims), fan_in);
  const Param& b = params.add(layer + ".bias", {weights_dims[0]}, plain_desc({weights_dims[0]}), fan_in);
  const memory weights = allocate(pd.weights_desc(0)), bias = allocate(pd.weights_desc(1)), dst = allocate(pd.dst_desc());
  append(forward, layer + " forward", pd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}});
  prepare.push_back([arena = &params, &w, &b, weights, bias, channels_last] {
    std::vector<float> plain_w = arena->read_plain(w, arena->values());
    reorder_now(plain_weights_for(weights, w.dims, plain_w, channels_last), weights);
    std::vector<float> plain_b = arena->read_plain(b, arena->values());
    reorder_now(memory(plain_desc(b.dims), bias.get_engine(), plain_b.data()), bias);
  });
  return dst;
}

memory BuildContext::append_int8_weighted_forward(const std::string& layer, const dnnl::primitive_desc& pd,
                                                  const memory& src, const Dims& weights_dims, int64_t fan_in,
                                                  const Int8Layer& q, compat::ScaleArgs scale_args,
                                                  bool channels_last) {
  const Dims bias_dims = {weights_dims[0]};
  const Param& w = params.add(layer + ".weights", weights_dims, plain_desc(weights_dims), fan_in);
  const Param& b = params.add(layer + ".bias", bias_dims, plain_desc(bias_dims), fan_in);
  const memory weights = allocate(pd.weights_desc(0));
  const memory bias = allocate(pd.weights_desc(1));
  const float src_factor = compat::data_type(src.get_desc()) == memory::data_type::f32 ? 1.f / q.src_scale : 1.f;
  const memory s = convert_scaled(forward, layer + " src", src, pd.src_desc(), src_factor);
  const memory dst = allocate(pd.dst_desc());
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}};
  args.merge(scale_args);
  append(forward, layer + " forward", pd, std::move(args));

  // Weights: w / scale[oc], rounded and saturated to s8, in the layout (and with whatever
  // compensation) the primitive asked for. The arena and its Params outlive these calls.
  std::vector<float> inverse(q.weight_scales.size());
  for (size_t i = 0; i < inverse.size(); ++i) inverse[i] = 1.f / q.weight_scales[i];
  prepare.push_back([arena = &params, &w, &b, q, weights, bias, inverse, channels_last] {
    std::vector<float> plain_w = arena->read_plain(w, arena->values());
    reorder_now(plain_weights_for(weights, w.dims, plain_w, channels_last), weights, inverse);
    const std::vector<float> real = compat::int8_bias(arena->read_plain(b, arena->values()), q.src_scale, q.weight_scales);
    std::copy(real.begin(), real.end(), static_cast<float*>(bias.get_data_handle()));
  });
  return dst;
}

BuildContext::WeightedForward BuildContext::append_bf16_weighted_forward(const std::string& layer,
                                                                        const dnnl::primitive_desc& pd,
                                                                        const memory& src, const Dims& weights_dims,
                                                                        int64_t fan_in) {
  const Dims bias_dims = {weights_dims[0]};
  const Param& w = params.add(layer + ".weights", weights_dims, plain_desc(weights_dims), fan_in);
  const Param& b = params.add(layer + ".bias", bias_dims, plain_desc(bias_dims), fan_in);
  const memory weights = allocate(pd.weights_desc(0));
  append_reorder(forward, layer + " weights to bf16", w.value, weights);
  WeightedForward f{convert(forward, layer + " src", src, pd.src_desc()), weights, allocate(pd.dst_desc()), w.grad,
                    b.grad};
  append(forward, layer + " forward", pd,
         {{DNNL_ARG_SRC, f.src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, b.value}, {DNNL_ARG_DST, f.dst}});
  return f;
}

memory BuildContext::convert_scaled(OpList& ops, const std::string& name, const memory& from,
                                    const memory::desc& want, float factor) {
  if (factor == 1.f) return convert(ops, name, from, want);
  const memory to = allocate(want);
  const bool to_f32 = compat::data_type(want) == memory::data_type::f32;
  append_reorder(ops, name + (to_f32 ? " dequantize" : " quantize"), from, to, {factor});
  return to;
}

void BuildContext::append_backward_weights(const std::string& layer, const dnnl::primitive_desc& pd,
                                           const memory& src, const memory& diff_dst, const memory& diff_weights,
                                           const memory& diff_bias) {
  const memory s = convert(backward, layer + " bwd src", src, pd.src_desc());
  const memory dd = convert(backward, layer + " bwd diff_dst", diff_dst, pd.diff_dst_desc());
  append_into(backward, layer + " backward weights", pd,
              {{DNNL_ARG_SRC, s}, {DNNL_ARG_DIFF_DST, dd}, {DNNL_ARG_DIFF_BIAS, diff_bias}}, DNNL_ARG_DIFF_WEIGHTS,
              diff_weights, pd.diff_weights_desc());
}

memory BuildContext::append_backward_data(const std::string& layer, const dnnl::primitive_desc& pd,
                                          const memory& weights, const memory& diff_dst) {
  const memory w = convert(backward, layer + " bwd weights", weights, pd.weights_desc());
  const memory dd = convert(backward, layer + " bwd diff_dst", diff_dst, pd.diff_dst_desc());
  const memory diff_src = allocate(pd.diff_src_desc());
  append(backward, layer + " backward data", pd, {{DNNL_ARG_DIFF_DST, dd}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, diff_src}});
  return diff_src;
}

memory BuildContext::convert(OpList& ops, const std::string& name, const memory& from,
                             const memory::desc& want) {
  if (from.get_desc() == want) return from;
  const memory to = allocate(want);
  append_reorder(ops, name + " reorder", from, to);
  return to;
}

}  // namespace inkwell
