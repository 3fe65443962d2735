#include "inkwell/train.hpp"

#include <chrono>
#include <cmath>
#include <vector>

#include "inkwell/error.hpp"
#include "inkwell/loss.hpp"

namespace inkwell {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void check_input(const Model& model, const Dataset& data) {
  const Dims& src = model.src_dims();
  if (src[1] != 1 || src[2] != data.rows || src[3] != data.cols)
    throw error("the model takes ", to_string({src[1], src[2], src[3]}), " inputs, the dataset has 1x", data.rows, "x", data.cols, " images");
  if (model.dst_dims().size() != 2 || model.classes() != static_cast<int64_t>(data.classes.size()))
    throw error("the model has ", to_string(model.dst_dims()), " outputs, the dataset ", data.classes.size(), " classes");
}

// Runs `body(batch indices, labels)` for each batch of `indices`, after filling the model's src.
// From batch `first` on; `body` returns false to stop.
template <typename Body>
void for_each_batch(Model& model, const Dataset& data, std::span<const uint32_t> indices,
                    const Normalization& norm, Rng* augment, int64_t first, Body body) {
  const int64_t n = static_cast<int64_t>(indices.size()), batch = model.batch();
  std::vector<uint8_t> labels(batch);
  for (int64_t start = first * batch; start < n; start += batch) {
    const auto count = std::min(batch, n - start);
    const auto idx = indices.subspan(start, count);
    fill_batch(data, idx, norm, model.src(), augment);
    for (int64_t i = 0; i < count; ++i) labels[i] = data.labels[idx[i]];
    if (!body(count, std::span<const uint8_t>(labels.data(), count))) return;
  }
}

}  // namespace

Metrics EpochState::metrics() const {
  return {loss_sum / std::max<int64_t>(images, 1), static_cast<double>(correct) / std::max<int64_t>(images, 1), images,
          seconds};
}

bool train_epoch(Model& model, Optimizer& optimizer, const Dataset& data, std::span<const uint32_t> order,
                 const Normalization& norm, const LearningRate& lr, EpochState& state, const Progress& progress,
                 Rng* augment, const std::atomic<bool>* stop) {
  check_input(model, data);
  const auto start = Clock::now();
  const double seconds_before = state.seconds;
  const int64_t classes = model.classes(), batch = model.batch();
  const auto logits = std::span<const float>(model.dst(), batch * classes);
  const auto diff = std::span<float>(model.diff_dst(), batch * classes);
  const int64_t steps = (static_cast<int64_t>(order.size()) + batch - 1) / batch;
  for_each_batch(model, data, order, norm, augment, state.steps_done, [&](int64_t count, std::span<const uint8_t> labels) {
    model.forward();
    const LossResult r = softmax_cross_entropy(logits, labels, classes, count, diff);
    if (!std::isfinite(r.loss_sum))
      throw error("training diverged: the loss became ", r.loss_sum, " at step ", optimizer.steps() + 1,
                  " (try a lower --lr)");
    model.backward();
    optimizer.step(model.params(), learning_rate(lr.schedule, lr.lr, optimizer.steps(), lr.total_steps));
    state.loss_sum += r.loss_sum;
    state.correct += r.correct;
    state.images += count;
    ++state.steps_done;
    if (progress) progress(state.steps_done, steps, state.loss_sum / state.images);
    return !(stop && stop->load());
  });
  state.seconds = seconds_before + seconds_since(start);
  return state.steps_done == steps;
}

Metrics evaluate(Model& model, const Dataset& data, std::span<const uint32_t> indices, const Normalization& norm,
                 std::vector<int64_t>* confusion) {
  check_input(model, data);
  const auto start = Clock::now();
  const int64_t classes = model.classes();
  const auto logits = std::span<const float>(model.dst(), model.batch() * classes);
  double loss_sum = 0;
  int64_t correct = 0, images = 0;
  for_each_batch(model, data, indices, norm, nullptr, 0, [&](int64_t count, std::span<const uint8_t> labels) {
    model.forward();
    const LossResult r = softmax_cross_entropy(logits, labels, classes, count, {});
    loss_sum += r.loss_sum;
    correct += r.correct;
    images += count;
    if (confusion) {
      confusion->resize(classes * classes);
      for (int64_t i = 0; i < count; ++i) (*confusion)[labels[i] * classes + argmax(model.dst() + i * classes, classes)]++;
    }
    return true;
  });
  return {loss_sum / std::max<int64_t>(images, 1), static_cast<double>(correct) / std::max<int64_t>(images, 1), images,
          seconds_since(start)};
}

}  // namespace inkwell
