#include "inkwell/nn/params.hpp"

#include <cstdlib>
#include <cstring>

#include "inkwell/core/error.hpp"
#include "inkwell/nn/reorder.hpp"

namespace inkwell {

using dnnl::memory;

memory::desc plain_desc(const Dims& dims) {
  using tag = memory::format_tag;
  switch (dims.size()) {
    case 1: return memory::desc(dims, memory::data_type::f32, tag::a);
    case 2: return memory::desc(dims, memory::data_type::f32, tag::ab);
    case 4: return memory::desc(dims, memory::data_type::f32, tag::abcd);
    default: throw error("no plain layout for a ", dims.size(), "-D tensor");
  }
}

void ParamArena::FreeDeleter::operator()(float* p) const { std::free(p); }

const Param& ParamArena::add(std::string name, Dims dims, const memory::desc& desc, int64_t fan_in, Init init) {
  if (values_) throw error("parameter ", name, " added after the arena was allocated");
  constexpr size_t align = 16;  // floats: 64 bytes, one cache line / AVX-512 vector
  Param p;
  p.name = std::move(name);
  p.dims = std::move(dims);
  p.desc = desc;
  p.fan_in = fan_in;
  p.init = init;
  p.offset = size_;
  p.size = desc.get_size() / sizeof(float);
  size_ += (p.size + align - 1) / align * align;
  p.value = memory(desc, engine_, DNNL_MEMORY_NONE);
  p.grad = memory(desc, engine_, DNNL_MEMORY_NONE);
  params_.push_back(std::move(p));
  return params_.back();
}

void ParamArena::allocate() {
  const size_t bytes = std::max<size_t>(size_, 16) * sizeof(float);
  auto zeroed = [bytes] {
    auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!p) throw error("out of memory allocating ", bytes, " bytes of parameters");
    std::memset(p, 0, bytes);
    return p;
  };
  values_.reset(zeroed());
  grads_.reset(zeroed());
  for (Param& p : params_) {
    p.value.set_data_handle(values_.get() + p.offset);
    p.grad.set_data_handle(grads_.get() + p.offset);
  }
}

const Param& ParamArena::find(const std::string& name) const {
  for (const Param& p : params_)
    if (p.name == name) return p;
  throw error("no parameter named ", name);
}

std::vector<float> ParamArena::read_plain(const Param& p, const float* base) const {
  std::vector<float> plain(element_count(p.dims));
  reorder_now(memory(p.desc, engine_, const_cast<float*>(base + p.offset)), memory(plain_desc(p.dims), engine_, plain.data()));
  return plain;
}

void ParamArena::write_plain(const Param& p, float* base, const std::vector<float>& plain) const {
  if (static_cast<int64_t>(plain.size()) != element_count(p.dims))
    throw error(p.name, ": expected ", element_count(p.dims), " values (", to_string(p.dims), "), got ", plain.size());
  reorder_now(memory(plain_desc(p.dims), engine_, const_cast<float*>(plain.data())), memory(p.desc, engine_, base + p.offset));
}

}  // namespace inkwell
