#include "inkwell/core/descriptor_share.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace inkwell {

namespace {
int quarter_of_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 256;
  return static_cast<int>(std::min<rlim_t>(256, limit.rlim_cur / 4));
}
}  // namespace

DescriptorShare::DescriptorShare() : size_(quarter_of_limit()) {}

int DescriptorShare::take(int wanted) {
  int held = held_.load();
  for (;;) {
    const int granted = std::clamp(size_ - held, 0, wanted);
    if (granted == 0 || held_.compare_exchange_weak(held, held + granted)) return granted;
  }
}

}  // namespace inkwell
