#include "inkwell/classify/classify.hpp"

#include <fcntl.h>
#include <omp.h>

#include <oneapi/tbb/concurrent_queue.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <numeric>

#include "inkwell/check/plan_cache.hpp"
#include "inkwell/check/plan_check.hpp"
#include "inkwell/core/cpu_budget.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/data/file_batch_reader.hpp"
#include "inkwell/data/image.hpp"
#include "inkwell/data/preprocess.hpp"
#include "inkwell/dist/communicator.hpp"
#include "inkwell/nn/loss.hpp"
#include "inkwell/nn/model.hpp"

namespace inkwell {

namespace {

namespace flow = tbb::flow;

constexpr size_t kImage = kMnistSide * kMnistSide;  // one input row: 28x28 pixels

// Where a file is: its open directory and its name there (or no directory: open the path).
struct Location {
  std::shared_ptr<const DirectoryHandle> dir;
  std::string name;
};

// A batch of files travelling through the graph.
struct Batch {
  int64_t seq = 0;    // in the walk, all shards' batches counted
  int64_t order = 0;  // among this shard's batches
  int64_t lead = 0;  // empty slots before the first file (resume alignment)
  std::vector<std::string> paths;
  std::vector<std::string> errors;  // per file; empty = ok
  std::vector<Location> files;      // where to open each (walk.hpp: a directory and a name)
  std::vector<float> input;         // (lead + files, 1, 28, 28), normalised
  std::vector<int> labels;          // (files, top_k)
  std::vector<float> probabilities; // (files, top_k)
};
using BatchPtr = std::shared_ptr<Batch>;

// Models checked out by inference tasks, one per concurrent task.
class ModelPool {
 public:
  void add(std::unique_ptr<Model> m) { free_.push_back(m.get()), all_.push_back(std::move(m)); }
  Model* acquire() {
    std::lock_guard lock(mutex_);
    Model* m = free_.back();
    free_.pop_back();
    return m;
  }
  void release(Model* m) {
    std::lock_guard lock(mutex_);
    free_.push_back(m);
  }

 private:
  std::mutex mutex_;
  std::vector<Model*> free_;
  std::vector<std::unique_ptr<Model>> all_;
};

// Input tensors recycled between batches: a fresh (batch, 1, 28, 28) vector per batch cost an
// mmap, page faults and a zero fill each time (docs/classify.md).
class InputBuffers {
 public:
  std::vector<float> take(size_t size) {
    std::vector<float> v;
    free_.try_pop(v);
    v.resize(size);  // a short batch after a full one keeps the capacity: no new pages
    return v;  // contents are whatever the last batch left
  }
  void give(std::vector<float>&& v) { free_.push(std::move(v)); }

 private:
  tbb::concurrent_queue<std::vector<float>> free_;
};

// File readers (their rings and slots) recycled between batches: one per decoding task at a time.
class FileReaders {
 public:
  std::unique_ptr<FileBatchReader> take() {
    std::unique_ptr<FileBatchReader> r;
    if (!free_.try_pop(r)) r = std::make_unique<FileBatchReader>();
    return r;
  }
  void give(std::unique_ptr<FileBatchReader> r) { free_.push(std::move(r)); }

 private:
  tbb::concurrent_queue<std::unique_ptr<FileBatchReader>> free_;
};

}  // namespace

bool Shard::owns(int64_t seq) const {
  if (contiguous_of == 0) return seq % count == index;
  const Share share = share_of(contiguous_of, index, count);
  return seq >= share.begin && seq < share.end;
}

ClassifyStats classify_files(const ModelFile& file, FileWalker& walker, const ClassifyConfig& config,
                             const std::function<void(const Prediction&)>& sink) {
  return classify_batches(file, walker, config, [&](int64_t, std::span<const Prediction> rows) {
    for (const Prediction& row : rows) sink(row);
  });
}

namespace {

int thread_count(const ClassifyConfig& config) { return config.threads > 0 ? config.threads : default_threads(); }
// One model a thread unless told: measured with the pipeline's decoding beside it, one model over
// both threads ran 64,800 img/s against 69,600 (50k PNGs, AMD Zen 5, 2 cores; docs/plans.md).
int executors_of(const ClassifyConfig& config) {
  return std::min(config.executors > 0 ? config.executors : thread_count(config), thread_count(config));
}

}  // namespace

InferencePlan classify_plan(const ModelFile& file, const ClassifyConfig& config, InferencePlanReport* report) {
  check::PlanCache cache;
  InferencePlan plan;
  plan.executors = executors_of(config);
  plan.threads_each = std::max(1, thread_count(config) / plan.executors);
  plan.int8 = check::measured_int8_plan(file.architecture, file.tensors, file.calibration, config.precision,
                                        config.run_batch(), config.plan_source, cache,
                                        report ? &report->precision : nullptr);
  plan.run_batch = check::measured_run_batch(file.architecture, file.tensors, plan.int8, config.run_batch(),
                                             config.plan_source, cache, report ? &report->run_batch : nullptr);
  const int omp_before = omp_get_max_threads();
  omp_set_num_threads(plan.threads_each);  // as the executors' models are built
  plan.int8 = check::check_int8_plan(file.architecture, file.tensors, file.normalization, std::move(plan.int8),
                                     plan.run_batch, cache);
  omp_set_num_threads(omp_before);
  return plan;
}

ClassifyStats classify_batches(const ModelFile& file, FileWalker& walker, const ClassifyConfig& config,
                               const BatchSink& sink) {
  if (config.shard.count < 1 || config.shard.index < 0 || config.shard.index >= config.shard.count)
    throw error("shard ", config.shard.index, " of ", config.shard.count, " does not exist");
  if (config.batch < 1 || config.batch > kMaxClassifyBatch)
    throw error("a batch of ", config.batch, " files: classification takes 1 to ", kMaxClassifyBatch);
  check_model_fits(file, "the model", {1, kMnistSide, kMnistSide}, 0, "classification (images fitted to 28x28)");
  const InferencePlan plan = config.plan ? *config.plan : classify_plan(file, config);
  if (plan.run_batch < 1 || plan.run_batch > config.run_batch())
    throw error("a plan running ", plan.run_batch, " rows at once, for batches of ", config.batch, " files");
  const int threads = std::max(thread_count(config), plan.executors), executors = plan.executors;
  const int64_t batch = config.batch, run = plan.run_batch;
  const int classes = static_cast<int>(file.classes.size());
  const int top_k = std::clamp(config.top_k, 1, classes);

  // Models for inference, built here with the OpenMP threads each will use.
  ModelPool pool;
  const int omp_before = omp_get_max_threads();
  omp_set_num_threads(plan.threads_each);
  for (int i = 0; i < executors; ++i) {
    auto m = std::make_unique<Model>(file.architecture, run, plan.int8);
    m->load_state(file.tensors);
    if (m->classes() != classes) throw error("the model has ", m->classes(), " outputs but ", classes, " class names");
    pool.add(std::move(m));
  }
  omp_set_num_threads(omp_before);

  const std::array<float, 256> lut = input_table(file.normalization);
  const PreprocessStyle style = preprocess_style(file);  // the model's own: EMNIST-trained, emnist

  ClassifyStats stats;
  InputBuffers buffers;
  FileReaders readers;
  const auto start = std::chrono::steady_clock::now();
  tbb::task_arena arena(threads);
  arena.execute([&] {
    flow::graph g;
    int64_t next_seq = 0, next_order = 0;
    bool walked_all = false;
    std::vector<Prediction> rows;  // the batch being written
    // Numbers every batch of the walk and passes on this shard's: the others' files are walked past.
    flow::input_node<BatchPtr> source(g, [&](tbb::flow_control& fc) -> BatchPtr {
      while (!walked_all && !(config.stop && config.stop->load())) {
        const int64_t seq = next_seq;
        const int64_t lead = seq == 0 ? config.already_done % batch : 0;
        const bool ours = config.shard.owns(seq);
        auto b = std::make_shared<Batch>();
        int64_t files = 0;
        for (; lead + files < batch; ++files) {
          std::optional<FileWalker::Entry> e = walker.next();
          if (!e) {
            walked_all = true;
            break;
          }
          if (!ours) continue;
          b->paths.push_back(std::move(e->path));
          b->errors.push_back(std::move(e->error));
          b->files.push_back({std::move(e->dir), std::move(e->name)});
        }
        if (files == 0) break;
        ++next_seq;
        if (!ours) continue;
        b->seq = seq;
        b->order = next_order++;
        b->lead = lead;
        return b;
      }
      fc.stop();
      return {};
    });
    // Batches in flight: enough to keep every thread busy, few enough to bound memory.
    flow::limiter_node<BatchPtr> limiter(g, static_cast<size_t>(2 * threads + 2));
    flow::function_node<BatchPtr, BatchPtr> decode(g, flow::unlimited, [&](BatchPtr b) {
      const int64_t rows = b->lead + static_cast<int64_t>(b->paths.size());
      b->input = buffers.take(static_cast<size_t>(rows) * kImage);
      std::vector<FileBatchReader::File> files;  // the walk's good entries
      std::vector<size_t> row_of;                 // their rows in the batch
      for (size_t i = 0; i < b->paths.size(); ++i) {
        if (!b->errors[i].empty()) continue;
        const Location& f = b->files[i];
        files.push_back(f.dir ? FileBatchReader::File{f.dir->fd(), f.name.c_str()}
                              : FileBatchReader::File{AT_FDCWD, b->paths[i].c_str()});
        row_of.push_back(i);
      }
      std::unique_ptr<FileBatchReader> reader = readers.take();
      reader->read(files, config.max_pixels, [&](size_t k, std::span<const uint8_t> bytes, std::string_view error) {
        const size_t i = row_of[k];
        if (!error.empty()) {
          b->errors[i] = error;
          return;
        }
        try {
          const MnistImage x = decode_mnist_like(bytes, style, config.max_pixels);
          float* dst = b->input.data() + (b->lead + i) * kImage;
          for (size_t p = 0; p < kImage; ++p) dst[p] = lut[x[p]];
        } catch (const std::exception& e) {
          b->errors[i] = e.what();
        }
      });
      readers.give(std::move(reader));
      // Rows without an image (resume alignment, failed files, a short last batch) are zeros.
      auto clear = [&](int64_t row) { std::fill_n(b->input.data() + row * kImage, kImage, 0.f); };
      for (int64_t row = 0; row < b->lead; ++row) clear(row);
      for (size_t i = 0; i < b->paths.size(); ++i)
        if (!b->errors[i].empty()) clear(b->lead + static_cast<int64_t>(i));
      b->files = {};  // the directories may close
      return b;
    });
    flow::function_node<BatchPtr, BatchPtr> infer(g, static_cast<size_t>(executors), [&](BatchPtr b) {
      // Rows [lead, lead + n) hold the files; the model runs on each stretch of `run` rows (from
      // row 0, so every row keeps its position in its run) that holds a file that decoded.
      const size_t n = b->paths.size();
      const int64_t rows = b->lead + static_cast<int64_t>(n);
      std::vector<float> logits(static_cast<size_t>(rows) * classes);
      Model* m = pool.acquire();
      for (int64_t r0 = 0; r0 < rows; r0 += run) {
        const int64_t r1 = std::min(rows, r0 + run);
        bool any = false;
        for (int64_t r = std::max(r0, b->lead); r < r1 && !any; ++r) any = b->errors[r - b->lead].empty();
        if (!any) continue;
        std::copy(b->input.begin() + r0 * kImage, b->input.begin() + r1 * kImage, m->src());
        std::fill(m->src() + (r1 - r0) * kImage, m->src() + run * kImage, 0.f);  // a short run's rest
        m->forward();
        std::copy_n(m->dst(), (r1 - r0) * classes, logits.begin() + r0 * classes);
      }
      pool.release(m);
      b->labels.resize(n * top_k);
      b->probabilities.resize(n * top_k);
      std::vector<double> p(classes);
      for (size_t i = 0; i < n; ++i) {
        if (!b->errors[i].empty()) continue;
        const float* x = logits.data() + (b->lead + i) * classes;
        // A row is classified only with finite logits: an overflowing model gives an error row,
        // never "ok" with NaN probabilities (which CSV and JSON cannot hold anyway).
        if (!std::all_of(x, x + classes, [](float v) { return std::isfinite(v); })) {
          if (b->errors[i].empty()) b->errors[i] = "the model's output is not finite (its logits overflowed)";
          continue;
        }
        const double sum = softmax_terms({x, static_cast<size_t>(classes)}, p);
        const std::span<int> labels(b->labels.data() + i * top_k, static_cast<size_t>(top_k));
        most_probable(p, labels);
        for (int k = 0; k < top_k; ++k) b->probabilities[i * top_k + k] = static_cast<float>(p[labels[k]] / sum);
      }
      buffers.give(std::move(b->input));  // the pixels are no longer needed: recycle them before the batch waits
      b->input = {};
      return b;
    });
    // This shard's batches are numbered 0, 1, ... again for the sequencer, in walk order.
    flow::sequencer_node<BatchPtr> sequencer(g, [](const BatchPtr& b) { return static_cast<size_t>(b->order); });
    flow::function_node<BatchPtr, flow::continue_msg> write(g, flow::serial, [&](BatchPtr b) {
      rows.resize(b->paths.size());
      for (size_t i = 0; i < b->paths.size(); ++i) {
        Prediction& row = rows[i];
        row.path = std::move(b->paths[i]);
        row.error = std::move(b->errors[i]);
        row.labels.clear();
        row.probabilities.clear();
        if (row.error.empty()) {
          row.labels.assign(b->labels.begin() + i * top_k, b->labels.begin() + (i + 1) * top_k);
          row.probabilities.assign(b->probabilities.begin() + i * top_k, b->probabilities.begin() + (i + 1) * top_k);
          ++stats.classified;
        } else {
          ++stats.failed;
        }
      }
      sink(b->seq, rows);
      return flow::continue_msg();
    });
    flow::make_edge(source, limiter);
    flow::make_edge(limiter, decode);
    flow::make_edge(decode, infer);
    flow::make_edge(infer, sequencer);
    flow::make_edge(sequencer, write);
    flow::make_edge(write, limiter.decrementer());
    source.activate();
    g.wait_for_all();  // rethrows what a body threw (the sink, or the walker)
    stats.batches = next_seq;
    stats.walked_all = walked_all;
  });
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace inkwell
