#include "inkwell/train/train.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

#include <oneapi/tbb/task_arena.h>

#include "inkwell/data/batch_pipeline.hpp"
#include "inkwell/dist/overlapped_sum.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/nn/loss.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/train/step_workers.hpp"

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

// One prepared batch: normalised images for the model's src, labels, and how many rows count;
// the pipeline keeps a ring of them (its slots).
struct Batch {
  std::vector<float> images;
  std::vector<uint8_t> labels;
  int64_t count = 0;
};

// Which rows of each batch this process fills: batches of `global` rows, of which it takes
// `local` from row `offset` on (data-parallel training: rank r of N takes r x local ...; one
// process: all of them).
struct Rows {
  int64_t global, local, offset;
};

// Runs `body(batch)` for each batch of `indices` from batch `first` on, in order, with the batches
// prepared on the pipeline; body returns false to stop. With `fill_up`, a short last batch is
// completed with indices[0...] (rows past its count). `augment_key(k)`, if set, seeds batch k's
// augmentation.
template <typename Body>
void for_each_batch(Model& model, const Dataset& data, std::span<const uint32_t> indices, const Normalization& norm,
                    int64_t first, int prefetch, bool fill_up, const std::function<uint64_t(int64_t)>& augment_key,
                    Rows rows, Body body) {
  prefetch = resolve_prefetch(prefetch, model.threads());
  // Right before the step, the fill has the step's threads; on the pipeline's TBB workers, one
  // each (an OpenMP team per worker would oversubscribe the cores).
  const int fill_threads = prefetch == 0 ? model.threads() : 1;
  const int64_t n = static_cast<int64_t>(indices.size()), batch = model.batch();
  const int64_t pixels = element_count(model.src_dims()) / batch;
  std::vector<Batch> slots(std::max(prefetch, 1));
  for (Batch& s : slots) s.images.resize(batch * pixels), s.labels.resize(batch);
  auto fill = [&](int64_t k, int slot_index) {
    Batch& s = slots[slot_index];
    const int64_t start = std::min(n, k * rows.global + rows.offset);
    s.count = std::clamp<int64_t>(std::min({rows.local, n - start, (k + 1) * rows.global - start}), 0, batch);
    std::vector<uint32_t> idx(indices.begin() + start, indices.begin() + start + s.count);
    for (int64_t i = 0; fill_up && static_cast<int64_t>(idx.size()) < batch; ++i) idx.push_back(indices[i % n]);
    std::optional<uint64_t> key;
    if (augment_key) key = augment_key(k);
    fill_batch(data, idx, norm, s.images.data(), key, fill_threads, rows.offset);
    for (size_t i = 0; i < idx.size(); ++i) s.labels[i] = data.labels[idx[i]];
  };
  auto consume = [&](int64_t, int slot_index) {
    const Batch& s = slots[slot_index];
    std::memcpy(model.src(), s.images.data(), s.images.size() * sizeof(float));
    return body(s);
  };
  run_batches(first, (n + rows.global - 1) / rows.global, prefetch, fill, consume);
}

// The keys a step draws from, from the run's seed and the global step (both loops use them, so a
// run gives the same numbers whichever loop runs it, and from any resume point).
struct StepKeys {
  uint64_t augment_seed, noise_seed;
  explicit StepKeys(uint64_t seed) : augment_seed(hash64(seed, 0xa5a5a5a5)), noise_seed(hash64(seed, 0xd509)) {}
  uint64_t augment(int64_t global_step) const { return hash64(augment_seed, static_cast<uint64_t>(global_step)); }
  uint64_t noise(int64_t optimizer_step) const { return hash64(noise_seed, static_cast<uint64_t>(optimizer_step)); }
};

void check_loss(double loss_sum, int64_t step) {
  if (!std::isfinite(loss_sum))
    throw error("training diverged: the loss became ", loss_sum, " at step ", step, " (try a lower --lr)");
}

// train_epoch on micro-batch workers: the same rows, keys and running figures as the team's.
bool train_on_workers(StepWorkers& workers, Model& master, Optimizer& optimizer, const Dataset& data,
                      std::span<const uint32_t> order, const Normalization& norm, const LearningRate& lr,
                      EpochState& state, const TrainOptions& options, const Progress& progress,
                      const std::atomic<bool>* stop) {
  const auto start = Clock::now();
  const double seconds_before = state.seconds;
  const int64_t batch = workers.batch(), n = static_cast<int64_t>(order.size());
  const int64_t steps = (n + batch - 1) / batch;
  const int64_t step0 = optimizer.steps() - state.steps_done;
  const StepKeys keys(options.seed);
  std::vector<uint32_t> rows(static_cast<size_t>(batch));
  bool stopped = false;
  while (state.steps_done < steps && !stopped) {
    const int64_t k = state.steps_done, begin = k * batch, count = std::min(batch, n - begin);
    for (int64_t r = 0; r < batch; ++r) rows[r] = order[r < count ? begin + r : (r - count) % n];  // a short batch fills up
    std::optional<uint64_t> augment_key;
    if (options.augment) augment_key = keys.augment(step0 + k);
    const LossResult r = workers.step(data, rows, count, norm, augment_key, keys.noise(optimizer.steps()));
    check_loss(r.loss_sum, optimizer.steps() + 1);
    optimizer.step(master.params(), learning_rate(lr.schedule, lr.lr, optimizer.steps(), lr.total_steps));
    state.loss_sum += r.loss_sum;
    state.correct += r.correct;
    state.images += count;
    ++state.steps_done;
    if (progress) progress(state.steps_done, steps, state.loss_sum / state.images);
    stopped = stop && stop->load();
  }
  state.seconds = seconds_before + seconds_since(start);
  return state.steps_done == steps;
}

}  // namespace

int resolve_prefetch(int prefetch, int step_threads) {
  if (prefetch != kAutoPrefetch) return prefetch;
  return step_threads >= tbb::this_task_arena::max_concurrency() ? 0 : 4;
}

Metrics EpochState::metrics() const {
  return {loss_sum / std::max<int64_t>(images, 1), static_cast<double>(correct) / std::max<int64_t>(images, 1), images,
          seconds};
}

bool train_epoch(Model& model, Optimizer& optimizer, const Dataset& data, std::span<const uint32_t> order,
                 const Normalization& norm, const LearningRate& lr, EpochState& state, const TrainOptions& options,
                 const Progress& progress, const std::atomic<bool>* stop) {
  check_input(model, data);
  if (options.workers)
    return train_on_workers(*options.workers, model, optimizer, data, order, norm, lr, state, options, progress, stop);
  const auto start = Clock::now();
  const double seconds_before = state.seconds;
  const int64_t classes = model.classes(), batch = model.batch();
  const auto logits = std::span<const float>(model.dst(), batch * classes);
  const auto diff = std::span<float>(model.diff_dst(), batch * classes);
  Communicator* comm = options.comm && !options.comm->alone() ? options.comm : nullptr;
  const int ranks = comm ? comm->size() : 1;
  const Rows rows{batch * ranks, batch, batch * (comm ? comm->rank() : 0)};
  const int64_t n = static_cast<int64_t>(order.size());
  const int64_t steps = (n + rows.global - 1) / rows.global;
  std::span<float> grads(model.params().grads(), model.params().size());
  std::optional<OverlappedGradientSum> overlapped;
  if (comm && options.overlap_allreduce) overlapped.emplace(*comm, grads);
  // Global step of batch k: the key of its augmentation and dropout.
  const int64_t step0 = optimizer.steps() - state.steps_done;
  const StepKeys keys(options.seed);
  std::function<uint64_t(int64_t)> augment_key;
  if (options.augment) augment_key = [&](int64_t k) { return keys.augment(step0 + k); };
  for_each_batch(model, data, order, norm, state.steps_done, options.prefetch, /*fill_up=*/true, augment_key, rows,
                 [&](const Batch& s) {
    model.set_noise_key(keys.noise(optimizer.steps()));
    model.forward();
    const auto labels = std::span<const uint8_t>(s.labels.data(), s.count);
    // The mean over the global batch: each rank divides by its row count, and the sum over the
    // ranks is the gradient one process would get.
    const int64_t global_count = std::min(rows.global, n - state.steps_done * rows.global);
    LossResult r = softmax_cross_entropy(logits, labels, classes, s.count, diff, global_count);
    if (overlapped) {
      model.backward([&](size_t begin, size_t end) { overlapped->ready(begin, end); });
      overlapped->finish();
    } else {
      model.backward();
      if (comm) comm->sum(grads);
    }
    // Summed over the ranks with the gradients: loss, correct, images, and whether any rank was
    // asked to stop (Ctrl-C on one rank stops all after the same step).
    double totals[4] = {r.loss_sum, static_cast<double>(r.correct), static_cast<double>(s.count),
                        stop && stop->load() ? 1.0 : 0.0};
    if (comm) comm->sum(std::span<double>(totals));
    check_loss(totals[0], optimizer.steps() + 1);
    optimizer.step(model.params(), learning_rate(lr.schedule, lr.lr, optimizer.steps(), lr.total_steps));
    state.loss_sum += totals[0];
    state.correct += static_cast<int64_t>(totals[1]);
    state.images += static_cast<int64_t>(totals[2]);
    ++state.steps_done;
    if (progress) progress(state.steps_done, steps, state.loss_sum / state.images);
    return totals[3] == 0;
  });
  state.seconds = seconds_before + seconds_since(start);
  return state.steps_done == steps;
}

Metrics evaluate(Model& model, const Dataset& data, std::span<const uint32_t> all, const Normalization& norm,
                 std::vector<int64_t>* confusion, int prefetch, Communicator* comm) {
  check_input(model, data);
  if (comm && comm->alone()) comm = nullptr;
  const Share share = comm ? share_of(static_cast<int64_t>(all.size()), comm->rank(), comm->size())
                           : Share{0, static_cast<int64_t>(all.size())};
  const std::span<const uint32_t> indices = all.subspan(share.begin, share.end - share.begin);
  const auto start = Clock::now();
  const int64_t classes = model.classes();
  const auto logits = std::span<const float>(model.dst(), model.batch() * classes);
  double loss_sum = 0;
  int64_t correct = 0, images = 0;
  if (confusion) confusion->assign(classes * classes, 0);
  const Rows rows{model.batch(), model.batch(), 0};
  for_each_batch(model, data, indices, norm, 0, prefetch, /*fill_up=*/false, {}, rows, [&](const Batch& s) {
    if (s.count == 0) return true;
    model.forward();
    const LossResult r = softmax_cross_entropy(logits, std::span<const uint8_t>(s.labels.data(), s.count), classes,
                                               s.count, {});
    loss_sum += r.loss_sum;
    correct += r.correct;
    images += s.count;
    if (confusion)
      for (int64_t i = 0; i < s.count; ++i) (*confusion)[s.labels[i] * classes + argmax(model.dst() + i * classes, classes)]++;
    return true;
  });
  if (comm) {
    std::vector<double> totals = {loss_sum, static_cast<double>(correct), static_cast<double>(images)};
    if (confusion) totals.insert(totals.end(), confusion->begin(), confusion->end());
    comm->sum(std::span<double>(totals));
    loss_sum = totals[0], correct = static_cast<int64_t>(totals[1]), images = static_cast<int64_t>(totals[2]);
    if (confusion)
      for (size_t i = 0; i < confusion->size(); ++i) (*confusion)[i] = static_cast<int64_t>(totals[3 + i]);
  }
  return {loss_sum / std::max<int64_t>(images, 1), static_cast<double>(correct) / std::max<int64_t>(images, 1), images,
          seconds_since(start)};
}

}  // namespace inkwell
