#include "inkwell/data/data_source.hpp"

#include <filesystem>
#include <tuple>

#include "inkwell/core/error.hpp"

namespace fs = std::filesystem;

namespace inkwell {

DatasetSplits load_data_source(const DataSource& source, ImageLoadReport* report) {
  if (std::optional<DatasetSplits> idx = load_idx_data(source.data)) return std::move(*idx);
  const fs::path path(source.data);
  if (!fs::exists(path)) {
    std::string names;
    for (const std::string& n : dataset_names()) names += (names.empty() ? "" : ", ") + n;
    throw error(source.data, ": neither a dataset name (", names, ") nor an existing file or directory");
  }
  ImageLoadOptions options;
  options.skip_bad = source.skip_bad;
  options.style = source.style;
  DatasetSplits s;
  if (fs::is_directory(path) && fs::is_directory(path / "train") && fs::is_directory(path / "test")) {
    s.train = load_image_folder((path / "train").string(), options, report);
    options.classes = s.train.classes;
    s.test = load_image_folder((path / "test").string(), options, report);
  } else {
    const Dataset all = path.extension() == ".csv" ? load_manifest(source.data, options, report)
                                                   : load_image_folder(source.data, options, report);
    std::tie(s.train, s.test) = split_dataset(all, source.test_fraction, source.seed);
  }
  if (source.measure_normalization) s.normalization = measure_normalization(s.train);
  s.style = source.style;
  return s;
}

}  // namespace inkwell
