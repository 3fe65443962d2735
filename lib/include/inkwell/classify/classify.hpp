// Batch classification of image files on a oneTBB flow graph:
//
//   walk (serial source: batches of paths, in traversal order, numbered)
//     -> limiter (at most `in_flight` batches exist: memory stays bounded on any tree)
//     -> read + decode + preprocess (parallel: one task per batch)
//     -> inference (`executors` models, each with its own memory and scratchpad)
//     -> sequencer (back to traversal order) -> sink (serial: the caller writes rows)
//
// A bad file becomes a result with its error, travelling with its batch: it is reported, never
// dropped (which would also stall the sequencer). Only fatal errors (the sink throwing) stop the
// graph; they are rethrown from classify_files.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "inkwell/nn/quantization.hpp"
#include "inkwell/train/checkpoint.hpp"
#include "inkwell/data/walk.hpp"

namespace inkwell {

struct ClassifyConfig {
  int threads = 0;        // TBB threads; 0: all cores
  int executors = 0;      // inference models run concurrently, 1 OpenMP thread each; 0: threads
  int64_t batch = 256;
  int top_k = 1;
  int64_t max_pixels = 64'000'000;
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by SIGINT): no new batches; in-flight ones finish
  // Files already done before (--resume): the first batch leaves that many modulo `batch` slots
  // empty, so every file sits where it sat in an uninterrupted run. oneDNN's results depend (in
  // the last bits) on a row's position in the batch: aligned, a resumed output is bit-identical.
  int64_t already_done = 0;
  // int8 where the model is quantised and plan_int8 says so (quantization.hpp); f32 otherwise.
  Precision precision = Precision::automatic;
};

struct Prediction {
  std::string path;
  std::string error;                  // empty: classified
  std::vector<int> labels;            // top_k class indices, most probable first
  std::vector<float> probabilities;   // their softmax probabilities
};

struct ClassifyStats {
  int64_t classified = 0, failed = 0;
  double seconds = 0;
};

// Classifies every file the walker yields, calling `sink` once per file, in walker order, from
// one thread at a time.
ClassifyStats classify_files(const ModelFile& model, FileWalker& walker, const ClassifyConfig& config,
                             const std::function<void(const Prediction&)>& sink);

}  // namespace inkwell
