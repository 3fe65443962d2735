#include "inkwell/data/image_dataset.hpp"

#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

#include "inkwell/core/error.hpp"
#include "inkwell/data/image.hpp"
#include "inkwell/data/preprocess.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/data/walk.hpp"

namespace inkwell {

namespace fs = std::filesystem;

namespace {

// files[i] with label labels[i] -> a dataset that decodes them when read. With skip_bad, every
// file is decoded once here, in parallel, and those that fail are left out and reported;
// otherwise a bad file is an error naming it when training reaches it.
Dataset make_dataset(std::vector<std::string> files, std::vector<uint8_t> labels, std::vector<std::string> classes,
                     const ImageLoadOptions& options, ImageLoadReport* report) {
  const size_t n = files.size();
  Dataset d;
  d.rows = d.cols = kMnistSide;
  d.classes = std::move(classes);
  d.max_pixels = options.max_pixels;
  if (!options.skip_bad) {
    d.files = std::move(files);
    d.labels = std::move(labels);
  } else {
    std::vector<std::string> errors(n);
    tbb::parallel_for(size_t{0}, n, [&](size_t i) {
      try {
        std::vector<uint8_t> bytes;
        read_image_file(files[i], options.max_pixels, bytes);
        to_mnist_like(decode_png(bytes, options.max_pixels));
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
    for (size_t i = 0; i < n; ++i) {
      if (errors[i].empty()) {
        d.files.push_back(std::move(files[i]));
        d.labels.push_back(labels[i]);
      } else if (report) {
        ++report->skipped;
        if (report->errors.size() < 10) report->errors.push_back(files[i] + ": " + errors[i]);
      }
    }
  }
  if (d.labels.empty()) throw error("no usable images among ", n, " files");
  return d;
}

uint8_t class_index(const std::vector<std::string>& classes, const std::string& name, const std::string& where) {
  const auto it = std::find(classes.begin(), classes.end(), name);
  if (it == classes.end()) throw error(where, ": class '", name, "' is not one of the model's classes");
  return static_cast<uint8_t>(it - classes.begin());
}

}  // namespace

Dataset load_image_folder(const std::string& root, const ImageLoadOptions& options, ImageLoadReport* report) {
  if (!fs::is_directory(root)) throw error(root, ": not a directory");
  std::vector<std::string> classes = options.classes;
  if (classes.empty()) {
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory()) classes.push_back(e.path().filename().string());
    std::sort(classes.begin(), classes.end());
  }
  if (classes.size() < 2 || classes.size() > 256) throw error(root, ": ", classes.size(), " class folders, expected 2 to 256");
  std::vector<std::string> files;
  std::vector<uint8_t> labels;
  for (size_t c = 0; c < classes.size(); ++c) {
    const fs::path dir = fs::path(root) / classes[c];
    if (!fs::is_directory(dir)) continue;  // a test tree may lack a class
    FileWalker walker({dir.string()}, ".png");
    while (auto e = walker.next()) files.push_back(e->path), labels.push_back(static_cast<uint8_t>(c));
  }
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && std::find(classes.begin(), classes.end(), e.path().filename().string()) == classes.end())
      throw error(e.path().string(), ": folder is not one of the classes (", classes.size(), " from the training tree)");
  return make_dataset(std::move(files), std::move(labels), std::move(classes), options, report);
}

Dataset load_manifest(const std::string& csv_path, const ImageLoadOptions& options, ImageLoadReport* report) {
  std::ifstream in(csv_path);
  if (!in) throw error(csv_path, ": cannot open");
  std::string line;
  if (!std::getline(in, line) || line.rfind("path,label", 0) != 0) throw error(csv_path, ": expected a header line 'path,label'");
  std::vector<std::pair<std::string, std::string>> rows;
  for (int64_t number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const size_t comma = line.rfind(',');
    if (comma == std::string::npos || comma == 0 || comma + 1 == line.size())
      throw error(csv_path, ":", number, ": expected 'path,label', got '", line, "'");
    fs::path path = line.substr(0, comma);
    if (path.is_relative()) path = fs::path(csv_path).parent_path() / path;
    rows.emplace_back(path.string(), line.substr(comma + 1));
  }
  std::vector<std::string> classes = options.classes;
  if (classes.empty()) {
    for (const auto& [path, label] : rows) classes.push_back(label);
    std::sort(classes.begin(), classes.end());
    classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  }
  if (classes.size() < 2 || classes.size() > 256) throw error(csv_path, ": ", classes.size(), " classes, expected 2 to 256");
  std::vector<std::string> files;
  std::vector<uint8_t> labels;
  for (const auto& [path, label] : rows) files.push_back(path), labels.push_back(class_index(classes, label, csv_path));
  return make_dataset(std::move(files), std::move(labels), std::move(classes), options, report);
}

Normalization measure_normalization(const Dataset& data) {
  // Every pixel of an in-memory dataset; of image files, an even sample of up to 10,000.
  const int64_t step = data.in_memory() ? 1 : std::max<int64_t>(1, data.size() / 10000);
  const int64_t samples = (data.size() + step - 1) / step;
  std::vector<std::pair<double, double>> sums(samples);
  tbb::parallel_for(int64_t{0}, samples, [&](int64_t s) {
    std::vector<uint8_t> scratch;
    const uint8_t* img = data.read(s * step, scratch);
    for (int64_t p = 0; p < data.rows * data.cols; ++p) sums[s].first += img[p], sums[s].second += double(img[p]) * img[p];
  });
  double sum = 0, sum_sq = 0;
  for (const auto& [a, b] : sums) sum += a, sum_sq += b;
  const double pixels = static_cast<double>(samples * data.rows * data.cols);
  const double mean = sum / (pixels * 255.0);
  const double var = std::max(sum_sq / (pixels * 255.0 * 255.0) - mean * mean, 1e-6);
  return {static_cast<float>(mean), static_cast<float>(std::sqrt(var))};
}

std::pair<Dataset, Dataset> split_dataset(const Dataset& all, double test_fraction, uint64_t seed) {
  if (!(test_fraction > 0 && test_fraction < 1)) throw error("test fraction must be between 0 and 1, got ", test_fraction);
  std::vector<uint32_t> order(all.size());
  std::iota(order.begin(), order.end(), 0u);
  Rng rng(seed ^ 0x5eed5117u);
  rng.shuffle(std::span(order));
  const auto n_test = std::max<int64_t>(1, std::llround(static_cast<double>(all.size()) * test_fraction));
  std::pair<Dataset, Dataset> out;
  for (Dataset* d : {&out.first, &out.second})
    d->rows = all.rows, d->cols = all.cols, d->classes = all.classes, d->max_pixels = all.max_pixels;
  std::sort(order.begin(), order.begin() + n_test);  // keep file order within each part
  std::sort(order.begin() + n_test, order.end());
  for (int64_t k = 0; k < all.size(); ++k) {
    Dataset& d = k < n_test ? out.second : out.first;
    const uint32_t i = order[k];
    if (all.in_memory()) d.images.insert(d.images.end(), all.image(i), all.image(i) + all.rows * all.cols);
    else d.files.push_back(all.files[i]);
    d.labels.push_back(all.labels[i]);
  }
  return out;
}

}  // namespace inkwell
