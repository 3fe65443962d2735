// Batch classification of image files on a oneTBB flow graph:
//
//   walk (serial source: batches of paths, in traversal order, numbered)
//     -> limiter (at most `in_flight` batches exist: memory stays bounded on any tree)
//     -> read + decode + preprocess (parallel: one task per batch)
//     -> inference (`executors` models, each with its own memory and scratchpad)
//     -> sequencer (back to traversal order) -> sink (serial: the caller writes rows)
//
// A sharded run (several processes, docs/distributed.md) walks the whole tree in every process,
// numbering the same batches, and classifies only the batches of its shard.
//
// A bad file becomes a Prediction with its error, travelling with its batch: it is reported, never
// dropped (which would also stall the sequencer). Only fatal errors (the sink throwing) stop the
// graph; they are rethrown from classify_files.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "inkwell/check/measured_plan.hpp"
#include "inkwell/nn/quantization.hpp"
#include "inkwell/model_file/model_file.hpp"
#include "inkwell/data/image.hpp"
#include "inkwell/data/walk.hpp"

namespace inkwell {

// Which batches of the walk (numbered 0, 1, ... in walk order) a process classifies.
struct Shard {
  int index = 0, count = 1;
  // 0: round-robin, batch k to shard k % count (docs/distributed.md: it keeps every shard busy
  // when parts of the tree cost more than others). n > 0: contiguous ranges of the walk's n
  // batches, share_of(n, index, count).
  int64_t contiguous_of = 0;
  bool owns(int64_t seq) const;
};

// A batch groups files (one task each to read and decode, the unit of --resume alignment and of
// sharding); the model runs on at most kMaxRunBatch of its rows at a time, and only on runs that
// hold a file: memory follows the files in flight, and a short batch costs what it holds (a
// last batch of 20 files in a batch of 4,096 runs 20 rows, not 4,096).
inline constexpr int64_t kMaxClassifyBatch = 4096;
inline constexpr int64_t kMaxRunBatch = 256;

// How classification runs a model: which layers in int8, how many rows at once, and its layout.
struct InferencePlan {
  Int8Plan int8;
  int64_t run_batch = kMaxRunBatch;  // rows a model runs at once: 1 to the config's run_batch()
  int executors = 1;                 // models run at once: one a thread unless --executors says otherwise
  int threads_each = 1;              // OpenMP threads each
};

// How classify_plan chose: the precision, then the rows a run (each measured, cached or the rule).
struct InferencePlanReport {
  check::PlanReport precision, run_batch;
};

struct ClassifyConfig {
  int threads = 0;        // TBB threads; 0: the CPUs this process may use (core/cpu_budget.hpp)
  int executors = 0;      // inference models run concurrently, sharing the threads; 0: one per thread
  int64_t batch = 64;     // 1 to kMaxClassifyBatch (inkwell-classify's and Python's default)
  int64_t run_batch() const { return std::min(batch, kMaxRunBatch); }  // the most rows a model runs at once
  int top_k = 1;
  int64_t max_pixels = kDefaultMaxPixels;
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by SIGINT): no new batches; in-flight ones finish
  // Files already done before (--resume): the first batch leaves that many modulo `batch` slots
  // empty, so every file sits where it sat in an uninterrupted run. oneDNN's results depend (in
  // the last bits) on a row's position in the batch: aligned, a resumed output is bit-identical.
  int64_t already_done = 0;
  // int8 where the model is quantised and the plan says so; f32 otherwise.
  Precision precision = Precision::automatic;
  check::PlanSource plan_source = check::PlanSource::cached;  // --plan auto | measure | rule
  // The plan, when the caller has made it already (classify_plan with this config); else made here.
  std::optional<InferencePlan> plan;
  Shard shard;  // every batch, by default
};

// The plan classification runs for `file` with `config`: the precision per layer, then the rows a
// run (at most run_batch()), each measured on this machine for auto (check/measured_plan.hpp) or by
// the rule, then checked against f32 at the executors' thread count and the run's rows
// (check/plan_check.hpp); its int8 notes say which layers run in f32 and why. `report`, if given,
// says how each was chosen.
InferencePlan classify_plan(const ModelFile& file, const ClassifyConfig& config, InferencePlanReport* report = nullptr);

// What classification says of one file. One concept, one name: output_rows.hpp writes each as a
// row of the CSV or JSONL output, and reads rows back into Predictions for --resume.
struct Prediction {
  std::string path;
  std::string error;                  // empty: classified
  std::vector<int> labels;            // top_k class indices, most probable first
  std::vector<float> probabilities;   // their softmax probabilities
};

struct ClassifyStats {
  int64_t classified = 0, failed = 0;  // by this process
  int64_t batches = 0;                 // the walk's batches, every shard's (so far, if stopped)
  bool walked_all = false;             // false: stopped before the walk's end
  double seconds = 0;
};

// Classifies the batches of config.shard of the files the walker yields, calling `sink` once per
// batch with its number in the walk and its predictions, in walk order, from one thread at a time.
using BatchSink = std::function<void(int64_t seq, std::span<const Prediction> predictions)>;
ClassifyStats classify_batches(const ModelFile& model, FileWalker& walker, const ClassifyConfig& config,
                               const BatchSink& sink);

// The same, one prediction at a time.
ClassifyStats classify_files(const ModelFile& model, FileWalker& walker, const ClassifyConfig& config,
                             const std::function<void(const Prediction&)>& sink);

}  // namespace inkwell
