// preprocess_gallery: the before-and-after picture of docs/classify.md. Takes the first N test
// images of an IDX dataset, renders each real-world style (variants.hpp, seed 0), and writes one
// PNG with a column per image: the rendering (fitted into 64x64), then what MNIST-style and
// EMNIST-style preprocessing make of it (28x28, shown at 2x).
// usage: preprocess_gallery IDX_DIR|NAME OUT.png [N]
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "inkwell/core/rng.hpp"
#include "inkwell/data/dataset.hpp"
#include "inkwell/data/image.hpp"
#include "inkwell/data/preprocess.hpp"
#include "inkwell/data/variants.hpp"

using namespace inkwell;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: preprocess_gallery IDX_DIR|NAME OUT.png [N]\n");
    return 2;
  }
  const int n = argc > 3 ? std::max(1, std::atoi(argv[3])) : 10;
  const std::optional<DatasetSplits> data = load_idx_data(argv[1]);
  if (!data) {
    std::fprintf(stderr, "preprocess_gallery: %s holds no IDX dataset\n", argv[1]);
    return 1;
  }
  constexpr int kCell = 64, kGap = 4;
  const int width = n * (kCell + kGap) + kGap, height = 3 * (kCell + kGap) + kGap;
  std::vector<uint8_t> canvas(static_cast<size_t>(width) * height, 128);  // grey between cells
  auto paste = [&](const GrayImage& img, int col, int row, int scale) {
    const int x0 = kGap + col * (kCell + kGap) + (kCell - static_cast<int>(img.width) * scale) / 2;
    const int y0 = kGap + row * (kCell + kGap) + (kCell - static_cast<int>(img.height) * scale) / 2;
    for (int y = 0; y < img.height * scale; ++y)
      for (int x = 0; x < img.width * scale; ++x) canvas[(y0 + y) * width + x0 + x] = img.at(y / scale, x / scale);
  };
  Rng rng(0);
  for (int i = 0; i < n && i < data->test.size(); ++i) {
    MnistImage original;
    std::copy(data->test.image(i), data->test.image(i) + original.size(), original.begin());
    const GrayImage rendered = decode_png(render_png(original, random_variant(rng)));
    // The rendering, nearest-neighbour fitted into a cell.
    const double fit = std::min(1.0, static_cast<double>(kCell) / std::max(rendered.width, rendered.height));
    GrayImage shown{std::max<int64_t>(1, static_cast<int64_t>(rendered.width * fit)),
                    std::max<int64_t>(1, static_cast<int64_t>(rendered.height * fit)), {}};
    for (int64_t y = 0; y < shown.height; ++y)
      for (int64_t x = 0; x < shown.width; ++x)
        shown.pixels.push_back(rendered.at(std::min(rendered.height - 1, static_cast<int64_t>(y / fit)),
                                           std::min(rendered.width - 1, static_cast<int64_t>(x / fit))));
    paste(shown, i, 0, 1);
    for (const auto& [row, style] : {std::pair{1, PreprocessStyle::mnist}, {2, PreprocessStyle::emnist}}) {
      const MnistImage out = to_mnist_like(rendered, style);
      paste({kMnistSide, kMnistSide, std::vector<uint8_t>(out.begin(), out.end())}, i, row, 2);
    }
  }
  if (!stbi_write_png(argv[2], width, height, 1, canvas.data(), width)) {
    std::fprintf(stderr, "preprocess_gallery: cannot write %s\n", argv[2]);
    return 1;
  }
  return 0;
}
