#include "inkwell/nn/reorder.hpp"

#include "inkwell/core/error.hpp"

namespace inkwell {

using dnnl::memory;

namespace {

size_t element_size(const memory::desc& d) { return memory::data_type_size(compat::data_type(d)); }

// Calls f(index) for every logical index of `dims`, last dim fastest.
template <class F>
void for_each_index(const Dims& dims, F f) {
  if (element_count(dims) == 0) return;
  Dims index(dims.size(), 0);
  for (;;) {
    f(index);
    size_t d = dims.size();
    while (d-- > 0 && ++index[d] == dims[d]) index[d] = 0;
    if (d == static_cast<size_t>(-1)) return;
  }
}

template <class T>
void gather(const std::vector<int64_t>& source, const T* from, T* to) {
  for (size_t i = 0; i < source.size(); ++i) to[i] = source[i] < 0 ? T{} : from[source[i]];
}

}  // namespace

Placement::Placement(const memory::desc& from, const memory::desc& to) : element_size_(element_size(from)) {
  if (element_size(to) != element_size_) throw error("placement: the data types differ");
  const compat::Blocking src = compat::blocking(from), dst = compat::blocking(to);
  source_.assign(to.get_size() / element_size_, -1);
  for_each_index(compat::dims(from), [&](const Dims& i) { source_[dst.offset(i)] = src.offset(i); });
}

void Placement::run(const void* from, void* to) const {
  switch (element_size_) {
    case 1: return gather(source_, static_cast<const uint8_t*>(from), static_cast<uint8_t*>(to));
    case 2: return gather(source_, static_cast<const uint16_t*>(from), static_cast<uint16_t*>(to));
    case 4: return gather(source_, static_cast<const uint32_t*>(from), static_cast<uint32_t*>(to));
    default: throw error("placement: ", element_size_, "-byte elements");
  }
}

std::string ReorderStep::impl() const { return place ? "inkwell:place" : convert->pd.impl_info_str(); }

std::vector<ReorderStep> plan_reorder(const dnnl::engine& engine, const memory::desc& from, const memory::desc& to,
                                      const std::vector<float>& factors, const dnnl::primitive_attr& attr) {
  auto convert = [&](const memory::desc& a, const memory::desc& b) {
    ReorderStep step{std::nullopt, std::nullopt, b};
    if (factors.empty())
      step.convert = compat::ScaledReorder{dnnl::reorder::primitive_desc(engine, a, engine, b, attr), {}};
    else
      step.convert = compat::scaled_reorder(engine, a, b, factors, attr);
    return step;
  };
  auto place = [](const memory::desc& a, const memory::desc& b) { return ReorderStep{Placement(a, b), std::nullopt, b}; };

  if (!compat::reorder_may_misplace(from, to)) return {convert(from, to)};
  const bool same_type = compat::data_type(from) == compat::data_type(to);
  if (same_type && factors.empty() && compat::has_no_extra(to)) return {place(from, to)};
  if (const auto staging = compat::like_layout(to, compat::data_type(from)))
    return {place(from, *staging), convert(*staging, to)};
  if (compat::has_no_extra(to))
    if (const auto converted = compat::like_layout(from, compat::data_type(to)))
      return {convert(from, *converted), place(*converted, to)};
  throw error("no exact way to reorder into a ", to_string(compat::dims(to)), " layout under ", compat::version());
}

void reorder_now(const memory& from, const memory& to, const std::vector<float>& factors) {
  const dnnl::engine engine = from.get_engine();
  const std::vector<ReorderStep> steps = plan_reorder(engine, from.get_desc(), to.get_desc(), factors);
  dnnl::stream stream(engine);
  memory in = from;
  for (size_t i = 0; i < steps.size(); ++i) {
    const ReorderStep& step = steps[i];
    const memory out = i + 1 == steps.size() ? to : memory(step.out, engine);
    if (step.place) {
      step.place->run(in.get_data_handle(), out.get_data_handle());
    } else {
      auto args = step.convert->args;
      args[DNNL_ARG_FROM] = in;
      args[DNNL_ARG_TO] = out;
      dnnl::reorder(step.convert->pd).execute(stream, args);
      stream.wait();
    }
    in = out;
  }
}

}  // namespace inkwell
