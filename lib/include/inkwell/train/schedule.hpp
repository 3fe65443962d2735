// Learning-rate schedules, as a function of the step (0-based) out of total_steps.
//   constant  lr
//   cosine    lr * (1 + cos(pi * step / total)) / 2, down to 0
//   onecycle  PyTorch's OneCycleLR (cosine): from lr/25 up to lr over the first 30% of the steps,
//             then down to lr/(25 * 1e4)
#pragma once

#include <cstdint>
#include <string>

namespace inkwell {

enum class Schedule { constant, cosine, onecycle };

Schedule parse_schedule(const std::string& name);
std::string to_string(Schedule schedule);
double learning_rate(Schedule schedule, double lr, int64_t step, int64_t total_steps);

}  // namespace inkwell
