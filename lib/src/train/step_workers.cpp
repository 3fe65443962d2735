#include "inkwell/train/step_workers.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "inkwell/core/rng.hpp"
#include "inkwell/nn/spec.hpp"

namespace inkwell {

bool trains_on_micro_batches(const Architecture& arch) {
  for (const LayerSpec& l : parse_spec(arch.spec))
    if (l.kind == LayerSpec::Kind::bn) return false;
  return true;
}

int64_t micro_batch_size(const Architecture& arch, int64_t batch) {
  int64_t floats = 0;
  for (const NamedDims& t : state_shapes(arch)) floats += element_count(t.dims);
  const int64_t slots = std::max<int64_t>(1, kMaxSlotBytes / std::max<int64_t>(1, floats * 4));
  return std::max<int64_t>(1, std::min(batch, std::max(kMicroBatch, (batch + slots - 1) / slots)));
}

StepWorkers::StepWorkers(Model& master, const Bf16Plan& plan, int workers, int64_t batch)
    : master_(master),
      batch_(batch),
      micro_(master.batch()),
      micros_((batch + master.batch() - 1) / master.batch()),
      slots_(static_cast<size_t>(micros_), std::vector<float>(master.params().size())),
      results_(static_cast<size_t>(micros_)),
      errors_(static_cast<size_t>(micros_)),
      start_(std::clamp<int>(workers, 1, static_cast<int>(micros_))),
      end_(std::clamp<int>(workers, 1, static_cast<int>(micros_))) {
  workers = std::clamp<int>(workers, 1, static_cast<int>(micros_));  // no worker without a micro-batch
  const int omp_before = omp_get_max_threads();
  omp_set_num_threads(1);
  for (int w = 1; w < workers; ++w)
    extra_.push_back(std::make_unique<Model>(master.architecture(), micro_, Mode::train, plan));
  omp_set_num_threads(omp_before);
  for (int w = 1; w < workers; ++w)
    threads_.emplace_back([this, w] {
      for (;;) {
        start_.arrive_and_wait();
        if (quit_) return;
        work(w);
        end_.arrive_and_wait();
      }
    });
}

StepWorkers::~StepWorkers() {
  quit_ = true;
  start_.arrive_and_wait();
  for (std::thread& t : threads_) t.join();
}

LossResult StepWorkers::step(const Dataset& data, std::span<const uint32_t> rows, int64_t count,
                             const Normalization& norm, std::optional<uint64_t> augment_key, uint64_t noise_key) {
  job_ = {&data, rows, count, &norm, augment_key, noise_key};
  next_ = 0;
  std::fill(errors_.begin(), errors_.end(), nullptr);
  start_.arrive_and_wait();
  work(0);
  end_.arrive_and_wait();
  for (const std::exception_ptr& e : errors_)
    if (e) std::rethrow_exception(e);  // the lowest micro-batch's: the same error for any interleaving
  // The sum in micro-batch order, and the loss and count likewise.
  float* grads = master_.params().grads();
  const size_t n = master_.params().size();
  std::copy(slots_[0].begin(), slots_[0].end(), grads);
  for (size_t j = 1; j < slots_.size(); ++j) {
    const float* s = slots_[j].data();
    for (size_t i = 0; i < n; ++i) grads[i] += s[i];
  }
  LossResult total;
  for (const LossResult& r : results_) total.loss_sum += r.loss_sum, total.correct += r.correct;
  return total;
}

void StepWorkers::work(int worker) {
  Model& m = worker == 0 ? master_ : *extra_[worker - 1];
  // The optimizer moved only the master's parameters: this step starts from them.
  if (worker > 0) std::memcpy(m.params().values(), master_.params().values(), m.params().size() * sizeof(float));
  for (int64_t j = next_++; j < micros_; j = next_++) {
    try {
      run_micro(m, j);
    } catch (...) {
      errors_[j] = std::current_exception();
    }
  }
}

void StepWorkers::run_micro(Model& m, int64_t j) {
  const int64_t first = j * micro_, classes = m.classes();
  const int64_t counted = std::clamp<int64_t>(job_.count - first, 0, micro_);
  // Rows past the batch (a batch that is not a multiple of the micro-batch) repeat its first row.
  std::vector<uint32_t> idx(static_cast<size_t>(micro_));
  std::vector<uint8_t> labels(static_cast<size_t>(counted));
  for (int64_t r = 0; r < micro_; ++r) idx[r] = job_.rows[first + r < batch_ ? first + r : 0];
  for (int64_t r = 0; r < counted; ++r) labels[r] = job_.data->labels[idx[r]];
  fill_batch(*job_.data, idx, *job_.norm, m.src(), job_.augment_key, 1, first);
  m.set_noise_key(hash64(job_.noise_key, static_cast<uint64_t>(j)));
  m.forward();
  results_[j] = softmax_cross_entropy({m.dst(), static_cast<size_t>(micro_ * classes)}, labels, classes, counted,
                                      {m.diff_dst(), static_cast<size_t>(micro_ * classes)}, job_.count);
  m.backward();
  std::memcpy(slots_[j].data(), m.params().grads(), slots_[j].size() * sizeof(float));
}

}  // namespace inkwell
