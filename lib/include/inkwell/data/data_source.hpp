// The one reading of a `--data` argument, for every app and the Python module: a dataset name
// (mnist, fashion, emnist-<split>), a directory of IDX files, an image tree (split into train/
// and test/, or one tree that a seeded share splits) or a CSV manifest (path,label).
#pragma once

#include <cstdint>
#include <string>

#include "inkwell/data/dataset.hpp"
#include "inkwell/data/image_dataset.hpp"

namespace inkwell {

struct DataSource {
  std::string data = "mnist";
  PreprocessStyle style = PreprocessStyle::mnist;  // how image files become 28x28 (IDX data keep their own)
  bool skip_bad = false;                           // image files: skip and report bad ones instead of stopping
  double test_fraction = 1.0 / 7;                  // a single tree or manifest: its test share (MNIST's 10k of 70k)
  uint64_t seed = 0;                               // ... drawn with this seed
  bool measure_normalization = true;               // image files: measure mean and std on the training split
};

// Loads `source`. Image files are listed, not decoded (image_dataset.hpp), except to measure the
// normalisation and, with skip_bad, to find the bad ones (counted in `report`). Throws an Error
// naming the path when it is neither a dataset name nor an existing file or directory.
DatasetSplits load_data_source(const DataSource& source, ImageLoadReport* report = nullptr);

}  // namespace inkwell
