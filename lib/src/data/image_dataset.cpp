#include "inkwell/data/image_dataset.hpp"

#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

#include "inkwell/core/csv.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/core/utf8.hpp"
#include "inkwell/core/read_file.hpp"
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
  d.style = options.style;
  if (!options.skip_bad) {
    d.files = std::move(files);
    d.labels = std::move(labels);
  } else {
    std::vector<std::string> errors(n);
    tbb::parallel_for(size_t{0}, n, [&](size_t i) {
      try {
        read_mnist_like(files[i], options.style, options.max_pixels);
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

constexpr uint64_t kMaxManifestBytes = uint64_t{1} << 30;

uint8_t class_index(const std::vector<std::string>& classes, const std::string& name, const std::string& where) {
  const auto it = std::find(classes.begin(), classes.end(), name);
  if (it == classes.end()) throw error(where, ": class '", name, "' is not one of the model's classes");
  return static_cast<uint8_t>(it - classes.begin());
}

}  // namespace

void check_class_name(const std::string& name, const std::string& where) {
  if (name.empty()) throw error(where, ": empty class name");
  if (name.size() > kMaxClassNameBytes)
    throw error(where, ": class name of ", name.size(), " bytes, over the ", kMaxClassNameBytes, "-byte limit");
  // The name is not echoed: it may hold the very bytes a terminal would act on.
  if (!printable_utf8(name))
    throw error(where, ": a class name of ", name.size(), " bytes holds a control character or is not valid UTF-8");
}

Dataset load_image_folder(const std::string& root, const ImageLoadOptions& options, ImageLoadReport* report) {
  if (!fs::is_directory(root)) throw error(root, ": not a directory");
  std::vector<std::string> classes = options.classes;
  if (classes.empty()) {
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory()) classes.push_back(e.path().filename().string());
    std::sort(classes.begin(), classes.end());
    for (const std::string& c : classes) check_class_name(c, (fs::path(root) / c).string());
  }
  if (classes.size() < 2 || classes.size() > 256) throw error(root, ": ", classes.size(), " class folders, expected 2 to 256");
  std::vector<std::string> files;
  std::vector<uint8_t> labels;
  for (size_t c = 0; c < classes.size(); ++c) {
    const fs::path dir = fs::path(root) / classes[c];
    if (!fs::is_directory(dir)) continue;  // a test tree may lack a class
    FileWalker walker({dir.string()});
    while (auto e = walker.next()) files.push_back(e->path), labels.push_back(static_cast<uint8_t>(c));
  }
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && std::find(classes.begin(), classes.end(), e.path().filename().string()) == classes.end())
      throw error(e.path().string(), ": folder is not one of the classes (", classes.size(), " from the training tree)");
  return make_dataset(std::move(files), std::move(labels), std::move(classes), options, report);
}

Dataset load_manifest(const std::string& csv_path, const ImageLoadOptions& options, ImageLoadReport* report) {
  const std::vector<uint8_t> bytes = read_regular_file(csv_path, kMaxManifestBytes);
  const std::vector<CsvRow> csv = parse_csv({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, csv_path);
  if (csv.empty() || csv[0].fields != std::vector<std::string>{"path", "label"})
    throw error(csv_path, ":1: expected the header line 'path,label'");
  std::vector<std::pair<std::string, std::string>> rows;
  for (size_t r = 1; r < csv.size(); ++r) {
    const CsvRow& row = csv[r];
    if (row.fields.size() != 2)
      throw error(csv_path, ":", row.line, ": expected 2 fields (path,label), got ", row.fields.size());
    if (row.fields[0].empty()) throw error(csv_path, ":", row.line, ": empty path");
    check_class_name(row.fields[1], csv_path + ":" + std::to_string(row.line));
    fs::path path = row.fields[0];
    if (path.is_relative()) path = fs::path(csv_path).parent_path() / path;
    rows.emplace_back(path.string(), row.fields[1]);
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
    d->rows = all.rows, d->cols = all.cols, d->classes = all.classes, d->max_pixels = all.max_pixels, d->style = all.style;
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
