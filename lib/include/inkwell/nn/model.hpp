// A Model is a network built once for a batch size: it owns every primitive, memory, workspace
// and parameter, and runs flat lists of (primitive, args). forward()/backward() allocate nothing.
//
//   src      (N, C, H, W)  plain f32 input, filled by the caller
//   dst      (N, K)        plain f32 output (logits), or (N, C, H, W) for a net ending in conv/pool
//   diff_dst               like dst, filled by the caller (the loss gradient) before backward()
//   diff_src               like src, only when built with need_diff_src (gradient checks)
//
// Mode::train builds forward_training + backward; Mode::infer builds forward_inference only.
// Models built from one Architecture exchange weights through state()/load_state() (plain
// layouts), whatever layouts their primitives chose.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "inkwell/nn/bf16.hpp"
#include "inkwell/nn/build_context.hpp"
#include "inkwell/nn/layer.hpp"
#include "inkwell/nn/params.hpp"
#include "inkwell/nn/quantization.hpp"
#include "inkwell/nn/spec.hpp"
#include "inkwell/core/tensor.hpp"

namespace inkwell {

enum class Mode { train, infer };

class Model {
 public:
  // Builds all primitives with the calling thread's OpenMP thread count (omp_set_num_threads).
  Model(const Architecture& arch, int64_t batch, Mode mode, bool need_diff_src = false);
  // Inference with the layers of `plan` in int8 (quantization.hpp); an empty plan is f32.
  Model(const Architecture& arch, int64_t batch, const Int8Plan& plan);
  // Training (or inference) with the layers of `plan` computing in bf16 (bf16.hpp).
  Model(const Architecture& arch, int64_t batch, Mode mode, const Bf16Plan& plan);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const Architecture& architecture() const { return arch_; }
  int64_t batch() const { return batch_; }
  int threads() const { return threads_; }  // OpenMP threads every run uses
  Mode mode() const { return mode_; }
  const Dims& src_dims() const { return src_dims_; }
  const Dims& dst_dims() const { return dst_dims_; }
  int64_t classes() const { return dst_dims_[1]; }

  float* src() { return static_cast<float*>(src_.get_data_handle()); }
  const float* dst() const { return static_cast<const float*>(dst_.get_data_handle()); }
  float* diff_dst() { return static_cast<float*>(diff_dst_.get_data_handle()); }
  const float* diff_src() const;

  void forward();
  void backward();  // Mode::train only; writes params().grads()
  // The same, calling `after_op(begin, end)` after each backward op: [begin, end) (floats into
  // params().grads()) is the part of the gradients that op wrote last, final from then on (empty
  // when it wrote none). Data parallelism starts summing them while the rest runs.
  void backward(const std::function<void(size_t begin, size_t end)>& after_op);

  ParamArena& params() { return *params_; }
  const ParamArena& params() const { return *params_; }

  // PyTorch's default initialisation: weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
  // drawn in plain layout, parameter by parameter, from Rng(seed).
  void init_params(uint64_t seed);
  // Parameters in plain layouts, then buffers (batch norm's running statistics).
  std::vector<NamedTensor> state() const;
  void load_state(const std::vector<NamedTensor>& state);  // names and dims must match

  // The key dropout draws this step's mask from (dropout.hpp); the training loop sets it from the
  // run's seed and the global step before each forward().
  void set_noise_key(uint64_t key) { noise_key_ = key; }

  // What each conv and fc layer read in the last forward(), by layer name, in the layouts their
  // primitives use (f32 models only): calibration's view of the activations.
  std::vector<std::pair<std::string, dnnl::memory>> layer_inputs() const;

  // "name: implementation" for every primitive, forward then backward; "ref:" means slow.
  std::vector<std::string> implementations() const;

  // Per-op wall time, for finding what a step spends its time on (bench/, docs/performance.md).
  struct OpTime {
    std::string name, impl;
    double total_ms = 0;
    int64_t calls = 0;
  };
  void set_profiling(bool on);
  std::vector<OpTime> profile() const;  // forward ops then backward ops

 private:
  Model(const Architecture& arch, int64_t batch, Mode mode, bool need_diff_src, const Int8Plan* int8,
        const Bf16Plan* bf16);
  void prepare();  // after parameters change: int8 layers quantise their weights
  void run(const OpList& ops, std::vector<OpTime>* times, const std::function<void(size_t op)>& after_op = {});
  // Per backward op, the gradient range [begin, end) it is the last op to write (empty if none).
  std::vector<std::pair<size_t, size_t>> gradients_final_after() const;

  Architecture arch_;
  int64_t batch_;
  Mode mode_;
  int threads_;  // OpenMP threads at build time; every run uses them, whichever thread calls
  Dims src_dims_, dst_dims_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::unique_ptr<ParamArena> params_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Buffer> buffers_;
  uint64_t noise_key_ = 0;
  OpList forward_, backward_;
  std::vector<std::pair<size_t, size_t>> final_after_;  // gradients_final_after(), made on first use
  std::vector<std::function<void()>> prepare_;
  dnnl::memory src_, dst_, diff_dst_, diff_src_;
  void* scratchpad_ = nullptr;  // one buffer shared by all primitives, which run one at a time
  bool profiling_ = false;
  std::vector<OpTime> forward_times_, backward_times_;
};

}  // namespace inkwell
