// Every reorder inkwell runs, built one way. Usually one oneDNN reorder from `from` to `to`. But
// where oneDNN's own reorder may write values to the wrong places (compat::reorder_may_misplace:
// oneDNN 3.7 into layouts blocked in two dims), inkwell places the values itself, exactly, and
// leaves oneDNN only conversions between tensors of one blocking: type, scales, and any int8
// compensation (docs/decisions.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "inkwell/nn/dnnl_compat.hpp"

namespace inkwell {

// Copies every element of a tensor into another layout of the same data type, by an index table
// computed once from both blockings; the destination's padding is written as zeros.
class Placement {
 public:
  Placement(const dnnl::memory::desc& from, const dnnl::memory::desc& to);
  void run(const void* from, void* to) const;

 private:
  std::vector<int64_t> source_;  // per destination element: the source element, or -1 (padding)
  size_t element_size_;
};

// One step of a reorder: an inkwell placement or a oneDNN reorder, writing a tensor of `out`.
struct ReorderStep {
  std::optional<Placement> place;
  std::optional<compat::ScaledReorder> convert;
  dnnl::memory::desc out;  // the last step's is `to`
  std::string impl() const;
};

// The steps, in order: one oneDNN reorder; or one placement (layout only); or a placement into
// `to`'s blocking, then oneDNN's conversion; or oneDNN's conversion in `from`'s blocking, then a
// placement. `factors` as in compat::scaled_reorder (to = from * factor); empty: none. `attr`
// may set a scratchpad mode. Throws if none of these fits.
std::vector<ReorderStep> plan_reorder(const dnnl::engine& engine, const dnnl::memory::desc& from,
                                      const dnnl::memory::desc& to, const std::vector<float>& factors = {},
                                      const dnnl::primitive_attr& attr = {});

// Plans and runs a reorder once, on its own stream (loading, saving, calibrating).
void reorder_now(const dnnl::memory& from, const dnnl::memory& to, const std::vector<float>& factors = {});

}  // namespace inkwell
