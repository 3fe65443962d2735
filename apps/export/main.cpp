// inkwell-export: writes an IDX dataset as PNG (or JPEG) files in ImageFolder layout,
// OUT/<split>/<class>/<index>.png, for demos, tests and benchmarks. With --variants, each image is
// instead rendered real-world style (lib/include/inkwell/data/variants.hpp: dark ink on light
// paper, other sizes and positions, strokes, colour types), one seeded random variant per image:
// OUT/<split>/<class>/<index>-<kind>.png.
#include <stb/stb_image_write.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "../common/cli.hpp"
#include "inkwell/data/dataset.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/data/jpeg.hpp"
#include "inkwell/data/variants.hpp"

namespace fs = std::filesystem;
using namespace inkwell;
namespace cli = inkwell::cli;

namespace {

std::vector<uint8_t> encode_png(const GrayImage& image) {
  std::vector<uint8_t> png;
  auto append = [](void* context, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(context);
    out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  if (!stbi_write_png_to_func(append, &png, static_cast<int>(image.width), static_cast<int>(image.height), 1,
                              image.pixels.data(), static_cast<int>(image.width)))
    throw Error("stb could not encode a PNG");
  return png;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = "mnist", split = "test", format = "png", out;
  bool variants = false;
  uint64_t seed = 0;
  CLI::App app("Writes an IDX dataset as image files in ImageFolder layout, OUT/<split>/<class>/<index>.png, for\n"
               "demos, tests and benchmarks; with --variants, rendered real-world style instead.",
               "inkwell-export");
  cli::configure(app, "\nexit: 0 done, 1 error (named), 2 usage error\n");
  app.add_option("--data", data,
                 "mnist, fashion or emnist-<split> (letters, digits, balanced, bymerge, byclass, mnist), fetched by "
                 "data/fetch, or a directory with a dataset's four IDX files")
      ->type_name("NAME|DIR")
      ->check(CLI::Validator([](std::string& t) -> std::string {
        std::string copy = t;
        return std::filesystem::is_directory(t) ? "" : cli::one_of(dataset_names())(copy);
      }, "", "data"))
      ->capture_default_str();
  app.add_option("--split", split, "test, train or all")->type_name("NAME")->check(cli::one_of({"test", "train", "all"}))->capture_default_str();
  app.add_flag("--variants", variants,
               "render each image real-world style (dark ink on light paper, other sizes and positions, strokes, "
               "colour types): OUT/<split>/<class>/<index>-<kind>.png");
  app.add_option("--seed", seed, "the variants' random choices")->type_name("N")->check(cli::whole(0, INT64_MAX))->capture_default_str();
  app.add_option("--format", format, "png, or jpg (quality 95, as a scanner saves)")->type_name("FORMAT")
      ->check(cli::one_of({"png", "jpg"}))->capture_default_str();
  app.add_option("--out", out, "where the tree goes")->type_name("DIR")->required();
  cli::parse(app, argc, argv);
  const bool jpeg = format == "jpg";
  return cli::run_or_report("inkwell-export", [&] {
    const std::optional<DatasetSplits> loaded = load_idx_data(data);
    if (!loaded) throw error(data, ": holds no IDX dataset (train-images-idx3-ubyte, or EMNIST's emnist-<split>-...)");
    const DatasetSplits& splits = *loaded;
    int64_t written = 0;
    Rng rng(seed);
    for (const auto& [name, set] : {std::pair{"train", &splits.train}, {"test", &splits.test}}) {
      if (split != "all" && split != name) continue;
      for (const std::string& c : set->classes) fs::create_directories(fs::path(out) / name / c);
      for (int64_t i = 0; i < set->size(); ++i) {
        const fs::path dir = fs::path(out) / name / set->classes[set->labels[i]];
        std::vector<uint8_t> bytes;
        std::string name_part = std::to_string(i);
        name_part.insert(0, name_part.size() < 5 ? 5 - name_part.size() : 0, '0');  // 00042
        if (variants) {
          const Variant v = random_variant(rng);
          MnistImage digit;
          std::copy(set->image(i), set->image(i) + digit.size(), digit.begin());
          bytes = render_png(digit, v);
          if (jpeg) bytes = encode_jpeg(decode_png(bytes));
          name_part += "-" + to_string(v.kind);
        } else {
          const GrayImage image{set->cols, set->rows, std::vector<uint8_t>(set->image(i), set->image(i) + set->cols * set->rows)};
          bytes = jpeg ? encode_jpeg(image) : encode_png(image);
        }
        const fs::path file = dir / (name_part + (jpeg ? ".jpg" : ".png"));
        std::ofstream f(file, std::ios::binary);
        f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        if (!f) throw error(file.string(), ": cannot write");
        ++written;
      }
    }
    cli::say(stdout, "wrote %lld %s files under %s\n", static_cast<long long>(written), jpeg ? "JPEG" : "PNG", out.c_str());
    return 0;
  });
}
