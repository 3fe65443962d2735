// inkwell-classify's pipeline end to end (walk, read, decode, preprocess, infer, order) on a tree
// of MNIST-like PNGs written once to a temporary directory; warm page cache. items/s = images/s.
// BM_ClassifyTree runs it in f32 and with the model's int8 plan; BM_DecodeTree is the ceiling the
// rest of the pipeline leaves: the walk, reading, decoding and preprocessing alone, on one thread.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "inkwell/model_file/model_file.hpp"
#include "inkwell/classify/classify.hpp"
#include "inkwell/data/image.hpp"
#include "inkwell/data/preprocess.hpp"
#include "inkwell/data/variants.hpp"

namespace inkwell {
namespace {

namespace fs = std::filesystem;

// A tree of `files` PNGs in 10 folders: 28x28 MNIST-like files, or real-world variants.
fs::path make_tree(int64_t files, bool variants) {
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
  return root;
}

// Args: files in the tree; 1: MNIST-like files, 2: real-world variants; 0: f32, 1: auto (int8).
void BM_ClassifyTree(benchmark::State& state) {
  const int64_t files = state.range(0);
  const fs::path root = make_tree(files, state.range(1) == 2);
  const ModelFile model = load_model_file(std::string(INKWELL_SOURCE_DIR) + "/models/default.inkw");
  ClassifyConfig config;
  config.batch = 64;
  config.precision = state.range(2) ? Precision::automatic : Precision::f32;
  for (auto _ : state) {
    FileWalker walker({root.string()});
    int64_t rows = 0;
    classify_files(model, walker, config, [&](const Prediction&) { ++rows; });
    benchmark::DoNotOptimize(rows);
  }
  state.SetItemsProcessed(state.iterations() * files);
  fs::remove_all(root);
}

BENCHMARK(BM_ClassifyTree)
    ->Args({20000, 1, 0})->Args({20000, 1, 1})->Args({5000, 2, 0})->Args({5000, 2, 1})
    ->UseRealTime()->Unit(benchmark::kMillisecond);

// Args: files; 1: MNIST-like, 2: variants. One thread: walk, read (openat), decode, preprocess.
void BM_DecodeTree(benchmark::State& state) {
  const int64_t files = state.range(0);
  const fs::path root = make_tree(files, state.range(1) == 2);
  for (auto _ : state) {
    FileWalker walker({root.string()});
    int64_t sum = 0;
    while (auto e = walker.next()) {
      const MnistImage x = e->dir ? read_mnist_like(e->name, PreprocessStyle::mnist, kDefaultMaxPixels, e->dir->fd())
                                  : read_mnist_like(e->path, PreprocessStyle::mnist);
      sum += x[14 * 28 + 14];
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * files);
  fs::remove_all(root);
}
BENCHMARK(BM_DecodeTree)->Args({20000, 1})->Args({5000, 2})->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace inkwell
