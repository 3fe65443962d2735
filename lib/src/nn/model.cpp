#include "inkwell/nn/model.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <omp.h>

#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/nn/layer_kinds.hpp"
#include "inkwell/core/rng.hpp"

namespace inkwell {

using dnnl::memory;

namespace {

// Whether every execute checks each argument against its primitive's descriptors (check_args),
// as well as every build: debug builds, and the test legs (INKWELL_CHECK_ARGS=1).
bool check_every_execute() {
#ifndef NDEBUG
  return true;
#else
  static const bool on = std::getenv("INKWELL_CHECK_ARGS") != nullptr;
  return on;
#endif
}

// Turns a spec into layers (layer_kinds.hpp), fusing each ReLU into the layer before it where
// that kind allows; a conv+ReLU followed by a max pool leaves its ReLU backward to the pool
// (max_pool.hpp).
std::vector<std::unique_ptr<Layer>> make_layers(const std::vector<LayerSpec>& specs) {
  std::vector<std::unique_ptr<Layer>> layers;
  const std::vector<std::string> names = layer_names(specs);  // conv1, pool1, fc1, bn1
  auto kind_at = [&](size_t i) { return i < specs.size() ? &layer_kind(specs[i].kind) : nullptr; };
  bool after_relu = false;  // the previous layer's ReLU backward is this layer's to do
  for (size_t i = 0; i < specs.size(); ++i) {
    const LayerKind& kind = *kind_at(i);
    LayerBuild b{names[i], false, false, after_relu};
    if (relu_fused_into(specs, i)) {
      b.relu = true;
      b.relu_backward_next = kind.kind == LayerSpec::Kind::conv && kind_at(i + 2) && kind_at(i + 2)->takes_relu_backward;
    }
    layers.push_back(kind.make(specs[i], b));
    i += b.relu;
    after_relu = b.relu_backward_next;
  }
  return layers;
}

}  // namespace

Model::Model(const Architecture& arch, int64_t batch, Mode mode, bool need_diff_src)
    : Model(arch, batch, mode, need_diff_src, nullptr, nullptr) {}

Model::Model(const Architecture& arch, int64_t batch, const Int8Plan& plan)
    : Model(arch, batch, Mode::infer, false, &plan, nullptr) {}

Model::Model(const Architecture& arch, int64_t batch, Mode mode, const Bf16Plan& plan)
    : Model(arch, batch, mode, false, nullptr, &plan) {}

Model::Model(const Architecture& arch, int64_t batch, Mode mode, bool need_diff_src, const Int8Plan* int8,
             const Bf16Plan* bf16)
    : arch_(arch), batch_(batch), mode_(mode), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_),
      params_(std::make_unique<ParamArena>(engine_)) {
  if (batch < 1) throw error("batch size must be at least 1, got ", batch);
  if (arch.input.size() != 3) throw error("model input must be (C, H, W), got ", to_string(arch.input));
  if (need_diff_src && mode != Mode::train) throw error("diff_src needs a training model");
  state_shapes(arch);  // the spec's bounds and shapes, checked before anything is allocated
  layers_ = make_layers(parse_spec(arch.spec));

  threads_ = omp_get_max_threads();
  BuildContext ctx(engine_, mode == Mode::train, threads_, *params_, &noise_key_, int8, bf16);
  src_dims_ = {batch, arch.input[0], arch.input[1], arch.input[2]};
  src_ = memory(plain_desc(src_dims_), engine_);

  memory x = src_;
  for (auto& layer : layers_) x = layer->build_forward(ctx, x);
  dst_dims_ = compat::dims(x.get_desc());
  dst_ = ctx.convert(ctx.forward, "output", x, plain_desc(dst_dims_));
  if (dst_dims_.size() == 2 && dst_dims_[1] < 2)
    throw error("model spec '", arch.spec, "' ends with ", dst_dims_[1], " output; a classifier needs at least 2");

  if (ctx.training) {
    diff_dst_ = memory(plain_desc(dst_dims_), engine_);
    memory diff = diff_dst_;
    for (size_t i = layers_.size(); i-- > 0;) diff = layers_[i]->build_backward(ctx, diff, i > 0 || need_diff_src);
    if (need_diff_src) diff_src_ = ctx.convert(ctx.backward, "diff_src", diff, plain_desc(src_dims_));
  }
  params_->allocate();
  buffers_ = std::move(ctx.buffers);

  // One scratchpad buffer, as large as the largest any primitive asked for, shared by all.
  size_t scratch_bytes = 64;
  for (const OpList* ops : {&ctx.forward, &ctx.backward})
    for (const Op& op : *ops) scratch_bytes = std::max(scratch_bytes, op.scratchpad.get_size());
  scratchpad_ = std::aligned_alloc(64, (scratch_bytes + 63) / 64 * 64);
  if (!scratchpad_) throw error("out of memory allocating a ", scratch_bytes, "-byte scratchpad");
  for (OpList* ops : {&ctx.forward, &ctx.backward})
    for (Op& op : *ops) {
      if (!op.kernel) op.args[DNNL_ARG_SCRATCHPAD] = memory(op.scratchpad, engine_, scratchpad_);
      check_args(op);
    }
  forward_ = std::move(ctx.forward);
  backward_ = std::move(ctx.backward);
  prepare_ = std::move(ctx.prepare);
}

void Model::prepare() {
  for (const auto& step : prepare_) step();
}

std::vector<std::pair<std::string, memory>> Model::layer_inputs() const {
  std::vector<std::pair<std::string, memory>> out;
  for (const auto& layer : layers_)
    if (memory m = layer->input()) out.emplace_back(layer->name(), m);
  return out;
}

Model::~Model() {
  forward_.clear();
  backward_.clear();
  std::free(scratchpad_);
}

const float* Model::diff_src() const {
  if (!diff_src_) throw error("diff_src: the model was built without need_diff_src");
  return static_cast<const float*>(diff_src_.get_data_handle());
}

void Model::run(const OpList& ops, std::vector<OpTime>* times, const std::function<void(size_t op)>& after_op) {
  // oneDNN's convolutions fix their thread count when created, but its GEMM (inner product) reads
  // it when it runs. A TBB worker's default is all cores: two workers each forking a team spun
  // on two cores (classification at batch 32 ran at a third of its speed). So run with the
  // build-time count, whichever thread calls, and give the caller its own back.
  struct ThreadCount {
    int caller = omp_get_max_threads(), wanted;
    explicit ThreadCount(int n) : wanted(n) {
      if (caller != wanted) omp_set_num_threads(wanted);
    }
    ~ThreadCount() {
      if (caller != wanted) omp_set_num_threads(caller);
    }
  } thread_count(threads_);
  const bool check = check_every_execute();
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (check) check_args(op);
    const auto start = profiling_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    if (op.kernel) {
      op.kernel();
    } else {
      op.primitive.execute(stream_, op.args);
    }
    if (profiling_) {
      stream_.wait();
      (*times)[i].total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      (*times)[i].calls++;
    }
    if (after_op) {
      stream_.wait();
      after_op(i);
    }
  }
  stream_.wait();
}

void Model::forward() { run(forward_, &forward_times_); }

void Model::backward() {
  if (mode_ != Mode::train) throw error("backward() on a model built for inference");
  run(backward_, &backward_times_);
}

void Model::backward(const std::function<void(size_t begin, size_t end)>& after_op) {
  if (mode_ != Mode::train) throw error("backward() on a model built for inference");
  if (final_after_.empty()) final_after_ = gradients_final_after();
  run(backward_, &backward_times_, [&](size_t op) { after_op(final_after_[op].first, final_after_[op].second); });
}

// Which op writes which gradients: an argument whose memory lies in the gradient arena (diff
// weights and biases, or the reorder that brings them there from a primitive's own layout).
// A layer's gradients are one contiguous range, written by one op; were a range written by two,
// it counts for the later one.
std::vector<std::pair<size_t, size_t>> Model::gradients_final_after() const {
  const auto* arena = reinterpret_cast<const char*>(params_->grads());
  const size_t arena_bytes = params_->size() * sizeof(float);
  std::vector<std::pair<size_t, size_t>> writes(backward_.size(), {0, 0});
  for (size_t i = 0; i < backward_.size(); ++i) {
    size_t begin = SIZE_MAX, end = 0;
    for (const auto& [arg, memory] : backward_[i].args) {
      const auto* p = static_cast<const char*>(memory.get_data_handle());
      if (p < arena || p >= arena + arena_bytes) continue;
      const size_t offset = static_cast<size_t>(p - arena) / sizeof(float);
      begin = std::min(begin, offset);
      end = std::max(end, offset + memory.get_desc().get_size() / sizeof(float));
    }
    if (end > 0) writes[i] = {begin, end};
  }
  // A later op writing the same range takes it over.
  for (size_t i = 0; i < writes.size(); ++i)
    for (size_t j = i + 1; j < writes.size(); ++j)
      if (writes[i].second > writes[j].first && writes[j].second > writes[i].first) writes[i] = {0, 0};
  return writes;
}

void Model::set_profiling(bool on) {
  profiling_ = on;
  forward_times_.clear();
  backward_times_.clear();
  for (const auto& [ops, times] : {std::pair{&forward_, &forward_times_}, {&backward_, &backward_times_}})
    for (const Op& op : *ops) times->push_back({op.name, op.impl});
}

std::vector<Model::OpTime> Model::profile() const {
  std::vector<OpTime> all = forward_times_;
  all.insert(all.end(), backward_times_.begin(), backward_times_.end());
  return all;
}

void Model::init_params(uint64_t seed) {
  Rng rng(seed);
  for (const Param& p : params_->params()) {
    std::vector<float> plain(element_count(p.dims), p.init == Init::ones ? 1.f : 0.f);
    const double bound = 1.0 / std::sqrt(static_cast<double>(p.fan_in));
    if (p.init == Init::uniform)
      for (float& v : plain) v = static_cast<float>(rng.uniform(-bound, bound));
    params_->write_plain(p, params_->values(), plain);
  }
  for (const Buffer& b : buffers_) std::fill_n(b.data(), b.size(), b.initial);
  prepare();
}

std::vector<NamedTensor> Model::state() const {
  std::vector<NamedTensor> out;
  for (const Param& p : params_->params()) out.push_back({p.name, p.dims, params_->read_plain(p, params_->values())});
  for (const Buffer& b : buffers_) out.push_back({b.name, {b.size()}, std::vector<float>(b.data(), b.data() + b.size())});
  return out;
}

void Model::load_state(const std::vector<NamedTensor>& state) {
  const auto& params = params_->params();
  if (state.size() != params.size() + buffers_.size())
    throw error("model '", arch_.spec, "' has ", params.size() + buffers_.size(), " tensors, got ", state.size());
  auto check = [&](size_t i, const std::string& name, const Dims& dims) {
    if (state[i].name != name || state[i].dims != dims)
      throw error("tensor ", i, ": expected ", name, " ", to_string(dims), ", got ", state[i].name, " ",
                  to_string(state[i].dims));
  };
  for (size_t i = 0; i < params.size(); ++i) {
    check(i, params[i].name, params[i].dims);
    params_->write_plain(params[i], params_->values(), state[i].data);
  }
  for (size_t j = 0; j < buffers_.size(); ++j) {
    const NamedTensor& t = state[params.size() + j];
    check(params.size() + j, buffers_[j].name, {buffers_[j].size()});
    std::copy(t.data.begin(), t.data.end(), buffers_[j].data());
  }
  prepare();
}

std::vector<std::string> Model::implementations() const {
  std::vector<std::string> out;
  for (const OpList* ops : {&forward_, &backward_})
    for (const Op& op : *ops) out.push_back(op.name + ": " + op.impl);
  return out;
}

}  // namespace inkwell
