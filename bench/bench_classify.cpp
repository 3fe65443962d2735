// inkwell-classify's pipeline end to end (walk, read, decode, preprocess, infer, order) on a tree
// of MNIST-like PNGs written once to a temporary directory; warm page cache. items/s = images/s.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "inkwell/train/checkpoint.hpp"
#include "inkwell/classify/classify.hpp"
#include "inkwell/data/variants.hpp"

namespace inkwell {
namespace {

namespace fs = std::filesystem;

// Arg: files in the tree (10 folders). Args(1): 28x28 MNIST-like files; (2): real-world variants.
void BM_ClassifyTree(benchmark::State& state) {
  const int64_t files = state.range(0);
  const bool variants = state.range(1) == 2;
  const fs::path root = fs::temp_directory_path() / ("inkwell_bench_classify_" + std::to_string(::getpid()));
  fs::remove_all(root);
  Rng rng(1);
  for (int64_t i = 0; i < files; ++i) {
    MnistImage digit{};
    for (int y = 6; y < 22; ++y) digit[y * 28 + 8 + i % 12] = digit[y * 28 + 9 + i % 12] = 255;
    Variant v;
    v.dark_on_light = false;
    if (variants) v = random_variant(rng);
    const auto png = render_png(digit, v);
    const fs::path dir = root / std::to_string(i % 10);
    fs::create_directories(dir);
    std::ofstream(dir / (std::to_string(i) + ".png"), std::ios::binary)
        .write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  }
  const ModelFile model = load_model_file(std::string(INKWELL_SOURCE_DIR) + "/models/default.inkw");
  ClassifyConfig config;
  config.batch = 64;
  for (auto _ : state) {
    FileWalker walker({root.string()});
    int64_t rows = 0;
    classify_files(model, walker, config, [&](const Prediction&) { ++rows; });
    benchmark::DoNotOptimize(rows);
  }
  state.SetItemsProcessed(state.iterations() * files);
  fs::remove_all(root);
}

BENCHMARK(BM_ClassifyTree)->Args({20000, 1})->Args({5000, 2})->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace inkwell
