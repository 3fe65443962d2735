// inkwell-export: writes an IDX dataset as PNG files in ImageFolder layout,
// OUT/<split>/<class>/<index>.png, for demos, tests and benchmarks. With --variants, each image is
// instead rendered real-world style (lib/include/inkwell/variants.hpp: dark ink on light paper,
// other sizes and positions, strokes, colour types), one seeded random variant per image:
// OUT/<split>/<class>/<index>-<kind>.png.
#include <stb/stb_image_write.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "../common/cli.hpp"
#include "inkwell/data/dataset.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/data/variants.hpp"

namespace fs = std::filesystem;
using namespace inkwell;
namespace cli = inkwell::cli;

int main(int argc, char** argv) {
  std::string data = "mnist", split = "test", out;
  bool variants = false;
  uint64_t seed = 0;
  CLI::App app("Writes an IDX dataset as image files in ImageFolder layout, OUT/<split>/<class>/<index>.png, for\n"
               "demos, tests and benchmarks; with --variants, rendered real-world style instead.",
               "inkwell-export");
  cli::configure(app, "\nexit: 0 done, 1 error (named), 2 usage error\n");
  app.add_option("--data", data, "mnist, fashion, emnist-letters or emnist-digits, fetched by data/fetch")->type_name("NAME")->check(cli::one_of(dataset_names()))->capture_default_str();
  app.add_option("--split", split, "test, train or all")->type_name("NAME")->check(cli::one_of({"test", "train", "all"}))->capture_default_str();
  app.add_flag("--variants", variants,
               "render each image real-world style (dark ink on light paper, other sizes and positions, strokes, "
               "colour types): OUT/<split>/<class>/<index>-<kind>.png");
  app.add_option("--seed", seed, "the variants' random choices")->type_name("N")->check(cli::whole(0, INT64_MAX))->capture_default_str();
  app.add_option("--out", out, "where the tree goes")->type_name("DIR")->required();
  cli::parse(app, argc, argv);
  return cli::run_or_report("inkwell-export", [&] {
    const DatasetSplits splits = load_named_dataset(data, dataset_dir(data));
    int64_t written = 0;
    Rng rng(seed);
    for (const auto& [name, set] : {std::pair{"train", &splits.train}, {"test", &splits.test}}) {
      if (split != "all" && split != name) continue;
      for (const std::string& c : set->classes) fs::create_directories(fs::path(out) / name / c);
      for (int64_t i = 0; i < set->size(); ++i) {
        char file[48];
        const fs::path dir = fs::path(out) / name / set->classes[set->labels[i]];
        if (variants) {
          const Variant v = random_variant(rng);
          MnistImage digit;
          std::copy(set->image(i), set->image(i) + digit.size(), digit.begin());
          const std::vector<uint8_t> png = render_png(digit, v);
          std::snprintf(file, sizeof file, "%05lld-%s.png", static_cast<long long>(i), to_string(v.kind).c_str());
          std::ofstream f(dir / file, std::ios::binary);
          f.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
          if (!f) throw error((dir / file).string(), ": cannot write");
        } else {
          std::snprintf(file, sizeof file, "%05lld.png", static_cast<long long>(i));
          if (!stbi_write_png((dir / file).c_str(), static_cast<int>(set->cols), static_cast<int>(set->rows), 1,
                              set->image(i), static_cast<int>(set->cols)))
            throw error((dir / file).string(), ": cannot write PNG");
        }
        ++written;
      }
    }
    std::printf("wrote %lld PNGs under %s\n", static_cast<long long>(written), out.c_str());
    return 0;
  });
}
