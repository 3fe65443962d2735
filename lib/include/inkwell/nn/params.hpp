// The parameter arena: every weight and bias of a model lives in one contiguous f32 buffer, and
// its gradient at the same offset of a second one. Optimizers and zero-grad are one loop over it.
//
// A parameter is stored in the layout its primitive chose (e.g. ABcd16b16a for conv weights),
// including that layout's zero padding; read_plain/write_plain convert to and from OIHW/OI/O.
// Layers register parameters while building (add), then the model calls allocate() once, which
// binds the arena to the memory objects the layers already put in their primitive arguments.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "inkwell/core/tensor.hpp"

namespace inkwell {

// How Model::init_params fills a parameter: PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
// weights and biases; ones and zeros for batch norm's scale and shift.
enum class Init { uniform, ones, zeros };

struct Param {
  std::string name;          // "conv1.weights"
  Dims dims;                 // logical dims, e.g. (OC, IC, KH, KW)
  dnnl::memory::desc desc;   // layout the primitives use
  int64_t fan_in = 0;        // inputs per output, for Init::uniform
  Init init = Init::uniform;
  size_t offset = 0;         // in floats, into the arena
  size_t size = 0;           // in floats, padding included
  dnnl::memory value, grad;  // views into the value and gradient arenas
};

class ParamArena {
 public:
  explicit ParamArena(dnnl::engine engine) : engine_(std::move(engine)) {}
  ParamArena(const ParamArena&) = delete;
  ParamArena& operator=(const ParamArena&) = delete;

  // Registers a parameter; its memories get their buffers at allocate().
  const Param& add(std::string name, Dims dims, const dnnl::memory::desc& desc, int64_t fan_in,
                   Init init = Init::uniform);
  void allocate();  // zero-filled

  const std::deque<Param>& params() const { return params_; }
  const Param& find(const std::string& name) const;
  size_t size() const { return size_; }  // floats in each arena
  float* values() { return values_.get(); }
  const float* values() const { return values_.get(); }
  float* grads() { return grads_.get(); }
  const float* grads() const { return grads_.get(); }

  // Converts one parameter between the arena layout at `base` (values(), grads() or an
  // optimizer's state laid out like them) and plain OIHW/OI/O order.
  std::vector<float> read_plain(const Param& p, const float* base) const;
  void write_plain(const Param& p, float* base, const std::vector<float>& plain) const;

 private:
  struct FreeDeleter {
    void operator()(float* p) const;
  };
  dnnl::engine engine_;
  std::deque<Param> params_;  // deque: references stay valid as it grows
  size_t size_ = 0;
  std::unique_ptr<float[], FreeDeleter> values_, grads_;
};

// Plain (row-major) descriptor for dims of rank 1, 2 or 4.
dnnl::memory::desc plain_desc(const Dims& dims);

}  // namespace inkwell
