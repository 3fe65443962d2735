// inkwell-quantize: post-training static int8 quantization of a model file (docs/int8.md).
// Calibrates every conv and fc input range on training images, stores it with per-channel weight
// scales in a copy of the model file, and reports the test accuracy in f32 and in int8.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <string>

#include <omp.h>

#include "../common/cli.hpp"
#include "../common/model_source.hpp"
#include "inkwell/classify/classify.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/data/dataset.hpp"
#include "inkwell/data/data_source.hpp"
#include "inkwell/nn/calibration.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/model_file/model_file.hpp"
#include "inkwell/train/train.hpp"

namespace fs = std::filesystem;
using namespace inkwell;

namespace {

double percent(double x) { return 100.0 * x; }

}  // namespace

int main(int argc, char** argv) {
  std::string model_path, data, out;
  int64_t images = 2000;
  std::string method = "percentile";
  double percentile = 99.99;
  int threads = 0;
  CLI::App app("Quantises a model for int8 inference: calibrates the input range of every conv and fc layer on\n"
               "training images, writes a copy of the model with that calibration (inkwell-classify runs it in\n"
               "int8 where the CPU gains), and reports the test accuracy in f32 and int8.",
               "inkwell-quantize");
  cli::configure(app, "\nexit: 0 done, 1 error (named), 2 usage error\n");
  app.add_option("--model", model_path, "the model file to quantise (.inkw or .onnx)")->required()->type_name("FILE");
  cli::ModelSource source;
  cli::add_model_source_options(app, source);
  app.add_option("--data", data,
                 "calibration and test data, as inkwell-train takes it: a dataset name, an IDX directory, an image "
                 "tree or a CSV manifest")
      ->required()->type_name("NAME|DIR");
  app.add_option("--out", out, "where to write the quantised model")->required()->type_name("FILE");
  app.add_option("--images", images, "training images to calibrate on (held in memory: 3 KiB each)")->type_name("N")->check(cli::whole(1, 100'000))
      ->default_str("2000");
  app.add_option("--method", method, "range kept: the largest value seen, or a percentile of them")
      ->type_name("max|percentile")->check(cli::one_of({"max", "percentile"}))->default_str("percentile");
  app.add_option("--percentile", percentile, "the percentile --method percentile keeps")->type_name("P")
      ->check(cli::real(90, 100))->default_str("99.99");
  app.add_option("--threads", threads, "OpenMP threads; 0: all cores")->type_name("N")->check(cli::whole(0, 4096))
      ->default_str("0");
  cli::parse(app, argc, argv);

  if (is_onnx_path(out))
    cli::usage_error(app, "--out " + out + ": the calibration is written into an .inkw file (ONNX QDQ export is not built yet)");
  return cli::run_or_report("inkwell-quantize", [&] {
    if (threads > 0) omp_set_num_threads(threads);
    ModelFile file = cli::load_model_from(model_path, source);
    // As inkwell-train reads --data (data_source.hpp): a single tree or manifest calibrates on its
    // training share and is tested on the rest, split as inkwell-train splits it by default.
    DataSource source;
    source.data = data, source.style = preprocess_style(file), source.measure_normalization = false;
    const DatasetSplits splits = load_data_source(source);
    check_model_fits(file, model_path, {1, splits.train.rows, splits.train.cols}, splits.train.classes.size(), data);

    // Calibration images: a seeded sample of the training split, normalised as the model was.
    std::vector<uint32_t> order(static_cast<size_t>(splits.train.size()));
    std::iota(order.begin(), order.end(), 0u);
    Rng rng(20261126);
    rng.shuffle(std::span(order));
    order.resize(static_cast<size_t>(std::min<int64_t>(images, splits.train.size())));
    const int64_t n = static_cast<int64_t>(order.size());
    std::vector<float> x(static_cast<size_t>(n * element_count(file.architecture.input)));
    fill_batch(splits.train, order, file.normalization, x.data(), {}, omp_get_max_threads());

    CalibrationOptions options;
    options.method = method == "max" ? CalibrationOptions::Method::max : CalibrationOptions::Method::percentile;
    options.percentile = percentile;
    file.calibration = calibrate(file.architecture, file.tensors, x, n, options);
    file.meta["quantization.method"] = method == "max" ? "max" : "percentile " + [&] {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", percentile);
      return std::string(buf);
    }();
    file.meta["quantization.images"] = std::to_string(n);
    file.meta["quantization.data"] = data;

    cli::say(stdout, "calibrated on %lld images of %s (%s)\n", static_cast<long long>(n), data.c_str(),
             file.meta["quantization.method"].c_str());
    // What inkwell-classify runs by default on this machine: checked against f32 here.
    const Int8Plan plan = classify_plan(file, ClassifyConfig{}).int8;
    for (const LayerCalibration& l : file.calibration) {
      const auto it = plan.layers.find(l.layer);
      cli::say(stdout, "  %-6s input range [%.4g, %.4g]  %s\n", l.layer.c_str(), l.lo, l.hi,
               it == plan.layers.end() ? "f32 on this CPU"
               : it->second.dst_scale != 0 ? "int8, u8 out"
                                              : "int8, f32 out");
    }
    for (const std::string& note : plan.notes) cli::say(stdout, "  (%s)\n", note.c_str());
    for (const std::string& warning : plan.warnings) cli::say(stdout, "  warning: %s\n", warning.c_str());

    if (splits.test.size() > 0) {
      std::vector<uint32_t> all(static_cast<size_t>(splits.test.size()));
      std::iota(all.begin(), all.end(), 0u);
      Model f32(file.architecture, 256, Mode::infer);
      f32.load_state(file.tensors);
      const Metrics a = evaluate(f32, splits.test, all, file.normalization);
      cli::say(stdout, "test accuracy  f32 %.2f%%", percent(a.accuracy));
      // auto: the checked plan above; all layers: forced and unchecked, so a disagreement shows.
      for (const auto& [label, p] : {std::pair{"int8 (auto)", plan}, {"int8 (all layers)", plan_int8(file.architecture, file.calibration, Precision::int8)}}) {
        Model q(file.architecture, 256, p);
        q.load_state(file.tensors);
        const Metrics b = evaluate(q, splits.test, all, file.normalization);
        cli::say(stdout, "  %s %.2f%%", label, percent(b.accuracy));
      }
      cli::say(stdout, "  (%lld images)\n", static_cast<long long>(splits.test.size()));
    }
    if (const fs::path parent = fs::path(out).parent_path(); !parent.empty()) fs::create_directories(parent);
    save_model_file(out, file);
    cli::say(stdout, "wrote %s\n", out.c_str());
    return cli::kOk;
  });
}
