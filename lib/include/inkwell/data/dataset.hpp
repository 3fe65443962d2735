// An in-memory labelled image dataset (8-bit grey, MNIST-like: light ink on dark), and turning
// a batch of it into a normalised (N, 1, H, W) f32 tensor.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "inkwell/data/image.hpp"
#include "inkwell/data/preprocess.hpp"

namespace inkwell {

struct Normalization {
  float mean = 0.1307f, std = 0.3081f;  // MNIST's; applied to pixels scaled to [0, 1]
};

// A pixel (0-255) as the model's input, (v / 255 - mean) / std, for each v: one table lookup a
// pixel wherever images become inputs (training batches, classification).
std::array<float, 256> input_table(const Normalization& norm);

// Images live in memory (IDX files), or are files decoded each time they are read (PNG trees and
// manifests, image_dataset.hpp): then memory does not grow with the dataset.
struct Dataset {
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> images;     // (size, rows, cols), or empty when `files` is not
  std::vector<std::string> files;  // (size) PNGs, decoded and fitted to 28 x 28 by read()
  int64_t max_pixels = kDefaultMaxPixels;  // for files: a larger image is an error
  PreprocessStyle style = PreprocessStyle::mnist;  // for files: how each becomes 28 x 28
  std::vector<uint8_t> labels;     // (size)
  std::vector<std::string> classes;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  bool in_memory() const { return files.empty(); }
  const uint8_t* image(int64_t i) const { return images.data() + i * rows * cols; }  // in memory only
  // Image i, rows x cols bytes: a view into `images`, or files[i] decoded into `scratch`.
  // Throws an error naming the file if it cannot be read or decoded.
  const uint8_t* read(int64_t i, std::vector<uint8_t>& scratch) const;
};

// How an IDX dataset stores images and labels: MNIST's way, or EMNIST's (every image stored
// transposed, column by column; letters labelled 1-26).
struct IdxLayout {
  bool transposed = false;
  int first_label = 0;  // the file's label of classes[0]
};

// images (N, H, W) + labels (N) IDX files -> Dataset, images row-major and labels from 0.
// Checks that counts agree and labels fit classes.
Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                         std::vector<std::string> classes, IdxLayout layout = {});

// A named dataset in a directory, its IDX files raw or .gz: "mnist" or "fashion" (train-images-
// idx3-ubyte, ...), or EMNIST's "emnist-letters" (classes A-Z) and "emnist-digits"
// (emnist-letters-train-images-idx3-ubyte, ...; IdxLayout transposed).
struct DatasetSplits {
  Dataset train, test;
  Normalization normalization;
  PreprocessStyle style = PreprocessStyle::mnist;  // how the data's characters were drawn into 28 x 28
};
DatasetSplits load_named_dataset(const std::string& name, const std::string& dir);
std::vector<std::string> dataset_names();  // the names load_named_dataset knows

// An IDX dataset by name (from dataset_dir) or a directory holding one's four IDX files under
// their usual names (MNIST's, or EMNIST's emnist-<split>-...); nullopt when `data` is neither.
std::optional<DatasetSplits> load_idx_data(const std::string& data);

// The directory data/fetch puts a named dataset in: $INKWELL_DATA/<name>, by default
// $XDG_CACHE_HOME/inkwell/<name> or ~/.cache/inkwell/<name>.
std::string dataset_dir(const std::string& name);

// Writes images[indices] as (N, 1, H, W) f32, (pixel / 255 - mean) / std, into `out`. With
// `augment_key`, row i first goes through augment_image (augment.hpp) drawing from
// Rng(hash64(*augment_key, first_row + i)): rows share no generator, so `threads` OpenMP threads
// fill them in parallel and give the same bytes as one, and a rank filling rows first_row... of
// a global batch draws what one process would. If rows cannot be read (a corrupt PNG), the
// first one's error is thrown, whatever the thread count.
void fill_batch(const Dataset& data, std::span<const uint32_t> indices, const Normalization& norm, float* out,
                std::optional<uint64_t> augment_key = {}, int threads = 1, int64_t first_row = 0);

}  // namespace inkwell
