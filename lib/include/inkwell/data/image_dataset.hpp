// Labelled datasets from image files, for training on one's own scans:
//   an ImageFolder tree  root/<class>/*.png   (class names: the sorted folder names)
//   a CSV manifest       path,label           (the header line "path,label"; real CSV: quotes,
//                                               CRLF, a BOM; relative paths are relative to the
//                                               manifest; labels are class names)
// The dataset lists the files; every image goes through decode_image (PNG or JPEG) and to_mnist_like (the
// classifier's preprocessing) each time the training pipeline reads it, so memory does not grow
// with the dataset. A bad file stops training with an error naming it; with skip_bad, every file
// is decoded once while loading and the bad ones are left out and reported instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "inkwell/data/dataset.hpp"

namespace inkwell {

struct ImageLoadOptions {
  std::vector<std::string> classes;  // empty: from the tree's folders / the manifest's labels (sorted)
  bool skip_bad = false;             // false: the first bad file is an error naming it
  int64_t max_pixels = kDefaultMaxPixels;
  PreprocessStyle style = PreprocessStyle::mnist;  // how each image becomes 28x28 (preprocess.hpp)
};

struct ImageLoadReport {
  int64_t skipped = 0;
  std::vector<std::string> errors;  // "path: reason", the first few of the skipped
};

Dataset load_image_folder(const std::string& root, const ImageLoadOptions& options, ImageLoadReport* report = nullptr);
Dataset load_manifest(const std::string& csv_path, const ImageLoadOptions& options, ImageLoadReport* report = nullptr);

// Class names become part of model files and CSV/JSONL output: 1 to 256 bytes of valid UTF-8,
// no control characters (a CR from a CRLF manifest, a newline or ESC in a folder name). Throws
// naming `where`, without echoing the name.
inline constexpr size_t kMaxClassNameBytes = 256;
void check_class_name(const std::string& name, const std::string& where);

// Mean and std of a dataset's pixels scaled to [0, 1]: the normalisation to train it with
// (of image files, measured on an even sample of 10,000).
Normalization measure_normalization(const Dataset& data);

// Splits off a seeded fraction of `all` as test data: {train, test}.
std::pair<Dataset, Dataset> split_dataset(const Dataset& all, double test_fraction, uint64_t seed);

}  // namespace inkwell
