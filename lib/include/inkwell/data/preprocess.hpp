// Turning any grey image of a handwritten character into what a model expects: 28x28, light ink
// on a dark background, in the style of the data the model was trained on. One module for
// classification and training.
//   MNIST style (LeCun et al.): the character fitted in 20x20 and centred by its centre of mass;
//   EMNIST style (Cohen et al. 2017): cropped to the ink, centred in a square, a 2-pixel border:
//   the character's longer side fills 24 of the 28 pixels, its box centred.
//
//   1. polarity: a light border means dark ink on light paper; the image is inverted
//   2. contrast: the background level (border median) becomes 0 and the brightest ink 255
//   3. bounding box of the ink (pixels above 1/4 of the brightest)
//   4. the box, aspect preserved, resized (antialiased) so its longer side is 20 (MNIST) or 24
//      (EMNIST) pixels
//   5. pasted into 28x28 so the centre of mass (MNIST) or the box's centre (EMNIST) lands on the
//      centre
// An image already MNIST-like (28x28 with a dark border) passes through unchanged. A blank image
// (no contrast) becomes all zeros.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "inkwell/data/image.hpp"

namespace inkwell {

inline constexpr int kMnistSide = 28;
using MnistImage = std::array<uint8_t, kMnistSide * kMnistSide>;

enum class PreprocessStyle { mnist, emnist };
PreprocessStyle parse_preprocess_style(const std::string& name);  // "mnist" | "emnist"
std::string to_string(PreprocessStyle style);

MnistImage to_mnist_like(const GrayImage& image, PreprocessStyle style = PreprocessStyle::mnist);

// The one path from an image file's bytes to a model's 28x28 input: decoded (PNG or JPEG, by
// its first bytes) and preprocessed. Throws an Error with the reason (the caller names the file).
MnistImage decode_mnist_like(std::span<const uint8_t> bytes, PreprocessStyle style, int64_t max_pixels = kDefaultMaxPixels);

// One file read (bounded by max_pixels, into a buffer each thread keeps), then decode_mnist_like:
// what the image datasets, quantize and the benchmarks take. Classification reads a batch's files
// at once (file_batch_reader.hpp), then calls decode_mnist_like for each. `dir_fd` >= 0 opens
// `name` in that open directory (the walker's, walk.hpp), else `name` is a path.
MnistImage read_mnist_like(const std::string& name, PreprocessStyle style, int64_t max_pixels = kDefaultMaxPixels,
                           int dir_fd = -1);

// True if a 28x28 image has a dark border (mean < 128): MNIST's convention, left untouched.
bool is_mnist_like(const GrayImage& image);

}  // namespace inkwell
