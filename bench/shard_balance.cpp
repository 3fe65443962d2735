// One shard of a sharded classification (classify.hpp's Shard), timed: what `mpirun -np N
// inkwell-classify` gives rank `index` to do, without the exchange. bench/compare_shards.py runs
// the N shards side by side, round-robin and contiguous, to see which keeps every rank busy.
//   shard_balance TREE --model FILE --index I --count N [--contiguous] [--threads 1] [--batch 64]
// Contiguous ranges need the walk's batch count first: a counting walk, timed apart ("count").
// Prints: shard I/N POLICY: B batches F files, S s (count C s)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "inkwell/classify/classify.hpp"

int main(int argc, char** argv) {
  using namespace inkwell;
  std::string tree, model_path;
  ClassifyConfig config;
  config.threads = 1;
  config.batch = 64;
  bool contiguous = false, usage = false;
  for (int i = 1; i < argc && !usage; ++i) {
    const auto value = [&] { return i + 1 < argc ? argv[++i] : ""; };
    if (!std::strcmp(argv[i], "--model")) model_path = value();
    else if (!std::strcmp(argv[i], "--index")) config.shard.index = std::atoi(value());
    else if (!std::strcmp(argv[i], "--count")) config.shard.count = std::atoi(value());
    else if (!std::strcmp(argv[i], "--contiguous")) contiguous = true;
    else if (!std::strcmp(argv[i], "--threads")) config.threads = std::atoi(value());
    else if (!std::strcmp(argv[i], "--batch")) config.batch = std::atoll(value());
    else if (argv[i][0] != '-' && tree.empty()) tree = argv[i];
    else usage = true;
  }
  if (usage || tree.empty() || model_path.empty() || config.batch < 1) {
    std::fprintf(stderr, "usage: shard_balance TREE --model FILE --index I --count N [--contiguous] [--threads 1] [--batch 64]\n");
    return 2;
  }
  try {
    const ModelFile model = load_model_file(model_path);
    const auto start = std::chrono::steady_clock::now();
    double count_seconds = 0;
    if (contiguous) {
      FileWalker counting({tree});
      int64_t files = 0;
      while (counting.next()) ++files;
      config.shard.contiguous_of = (files + config.batch - 1) / config.batch;
      count_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    FileWalker walker({tree});
    int64_t batches = 0, files = 0;
    classify_batches(model, walker, config, [&](int64_t, std::span<const Prediction> rows) {
      ++batches;
      files += static_cast<int64_t>(rows.size());
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("shard %d/%d %s: %lld batches %lld files, %.3f s (count %.3f s)\n", config.shard.index, config.shard.count,
                contiguous ? "contiguous" : "round-robin", static_cast<long long>(batches), static_cast<long long>(files),
                seconds, count_seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shard_balance: %s\n", e.what());
    return 1;
  }
}
