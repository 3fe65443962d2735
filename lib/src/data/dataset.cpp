#include "inkwell/data/dataset.hpp"

#include "inkwell/data/emnist.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <exception>
#include <filesystem>

#include "inkwell/data/augment.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/core/read_file.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/data/emnist.hpp"
#include "inkwell/data/idx.hpp"
#include "inkwell/data/image.hpp"
#include "inkwell/data/image_dataset.hpp"
#include "inkwell/data/preprocess.hpp"

namespace inkwell {

namespace fs = std::filesystem;

Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                         std::vector<std::string> classes, IdxLayout layout) {
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);
  if (images.dims.size() != 3) throw error(images_path, ": expected 3-D images (N, H, W), found ", to_string(images.dims));
  if (labels.dims.size() != 1) throw error(labels_path, ": expected 1-D labels (N), found ", to_string(labels.dims));
  if (images.dims[0] != labels.dims[0])
    throw error(images_path, " holds ", images.dims[0], " images but ", labels_path, " holds ", labels.dims[0], " labels");
  for (size_t i = 0; i < labels.data.size(); ++i) {
    const int label = labels.data[i] - layout.first_label;
    if (label < 0 || label >= static_cast<int>(classes.size()))
      throw error(labels_path, ": label ", int{labels.data[i]}, " at index ", i, " is out of range for ", classes.size(),
                  " classes numbered from ", layout.first_label);
    labels.data[i] = static_cast<uint8_t>(label);
  }
  if (layout.transposed) {
    const int64_t h = images.dims[1], w = images.dims[2];
    if (h != w) throw error(images_path, ": transposed images must be square, found ", h, "x", w);
    std::vector<uint8_t> t(h * w);
    for (int64_t n = 0; n < images.dims[0]; ++n) {
      uint8_t* img = images.data.data() + n * h * w;
      for (int64_t r = 0; r < h; ++r)
        for (int64_t c = 0; c < w; ++c) t[r * w + c] = img[c * h + r];
      std::copy(t.begin(), t.end(), img);
    }
  }
  Dataset d;
  d.rows = images.dims[1];
  d.cols = images.dims[2];
  d.images = std::move(images.data);
  d.labels = std::move(labels.data);
  d.classes = std::move(classes);
  return d;
}

namespace {
// Finds `name` or `name.gz` in dir.
std::string find_file(const std::string& dir, const std::string& name, const std::string& dataset) {
  for (const std::string& candidate : {name, name + ".gz"})
    if (fs::exists(fs::path(dir) / candidate)) return (fs::path(dir) / candidate).string();
  throw error("dataset '", dataset, "': ", name, " not found in ", dir, " (run data/fetch ", dataset, ")");
}
}  // namespace

std::vector<std::string> dataset_names() {
  std::vector<std::string> names = {"mnist", "fashion"};
  for (const std::string& split : emnist_splits()) names.push_back("emnist-" + split);
  return names;
}

DatasetSplits load_named_dataset(const std::string& name, const std::string& dir) {
  std::vector<std::string> classes;
  Normalization norm;
  if (name == "mnist") {
    classes = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  } else if (name == "fashion") {
    classes = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    norm = {0.2860f, 0.3530f};
  } else if (name.starts_with("emnist-")) {
    // Class names from the split's own mapping file when data/fetch kept it, else EMNIST's.
    const std::string split = name.substr(7);
    const int first_label = emnist_first_label(split);
    const fs::path mapping = fs::path(dir) / (name + "-mapping.txt");
    if (fs::exists(mapping)) {
      const std::vector<uint8_t> text = read_regular_file(mapping.string(), 1 << 16);
      classes = parse_emnist_mapping({reinterpret_cast<const char*>(text.data()), text.size()}, mapping.string(), first_label);
    } else {
      classes = emnist_default_classes(split);
    }
    DatasetSplits s;
    const IdxLayout layout{.transposed = true, .first_label = first_label};
    auto file = [&](const char* part) { return find_file(dir, name + part, name); };
    s.train = load_idx_dataset(file("-train-images-idx3-ubyte"), file("-train-labels-idx1-ubyte"), classes, layout);
    s.test = load_idx_dataset(file("-test-images-idx3-ubyte"), file("-test-labels-idx1-ubyte"), classes, layout);
    s.normalization = measure_normalization(s.train);
    s.style = PreprocessStyle::emnist;
    return s;
  } else {
    throw error("unknown dataset '", name, "' (expected mnist, fashion or emnist-<split>)");
  }
  auto file = [&](const char* f) { return find_file(dir, f, name); };
  DatasetSplits s;
  s.train = load_idx_dataset(file("train-images-idx3-ubyte"), file("train-labels-idx1-ubyte"), classes);
  s.test = load_idx_dataset(file("t10k-images-idx3-ubyte"), file("t10k-labels-idx1-ubyte"), classes);
  s.normalization = norm;
  return s;
}

std::optional<DatasetSplits> load_idx_data(const std::string& data) {
  for (const std::string& name : dataset_names())
    if (data == name) return load_named_dataset(data, dataset_dir(data));
  const fs::path path(data);
  if (!fs::is_directory(path)) return std::nullopt;
  auto has = [&](const std::string& f) { return fs::exists(path / f) || fs::exists(path / (f + ".gz")); };
  if (has("train-images-idx3-ubyte")) return load_named_dataset("mnist", data);
  for (const std::string& split : emnist_splits())
    if (has("emnist-" + split + "-train-images-idx3-ubyte")) return load_named_dataset("emnist-" + split, data);
  return std::nullopt;
}

const uint8_t* Dataset::read(int64_t i, std::vector<uint8_t>& scratch) const {
  if (in_memory()) return image(i);
  const std::string& path = files[static_cast<size_t>(i)];
  try {
    const MnistImage x = read_mnist_like(path, style, max_pixels);
    scratch.assign(x.begin(), x.end());
    return scratch.data();
  } catch (const std::exception& e) {
    throw error(path, ": ", e.what(), " (--skip-bad leaves bad files out)");
  }
}

std::string dataset_dir(const std::string& name) {
  fs::path root;
  if (const char* d = std::getenv("INKWELL_DATA"); d && *d) root = d;
  else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) root = fs::path(x) / "inkwell";
  else if (const char* h = std::getenv("HOME"); h && *h) root = fs::path(h) / ".cache" / "inkwell";
  else root = "data/cache";
  return (root / name).string();
}

std::array<float, 256> input_table(const Normalization& norm) {
  std::array<float, 256> table;
  for (int v = 0; v < 256; ++v) table[v] = (static_cast<float>(v) / 255.f - norm.mean) / norm.std;
  return table;
}

void fill_batch(const Dataset& data, std::span<const uint32_t> indices, const Normalization& norm, float* out,
                std::optional<uint64_t> augment_key, int threads, int64_t first_row) {
  const std::array<float, 256> lut = input_table(norm);
  const int64_t pixels = data.rows * data.cols, n = static_cast<int64_t>(indices.size());
  // No exception may leave an OpenMP region: each row's is kept, the first row's rethrown.
  std::vector<std::exception_ptr> failed(n);
#pragma omp parallel num_threads(std::max(threads, 1))
  {
    std::vector<uint8_t> augmented(augment_key ? pixels : 0), decoded;
#pragma omp for schedule(dynamic, 4)
    for (int64_t i = 0; i < n; ++i) {
      try {
        const uint8_t* img = data.read(indices[i], decoded);
        if (augment_key) {
          Rng rng(hash64(*augment_key, static_cast<uint64_t>(first_row + i)));
          augment_image(img, augmented.data(), data.rows, data.cols, rng);
          img = augmented.data();
        }
        float* dst = out + i * pixels;
        for (int64_t p = 0; p < pixels; ++p) dst[p] = lut[img[p]];
      } catch (...) {
        failed[i] = std::current_exception();
      }
    }
  }
  for (const std::exception_ptr& e : failed)
    if (e) std::rethrow_exception(e);
}

}  // namespace inkwell
