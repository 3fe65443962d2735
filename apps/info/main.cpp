// inkwell-info: a model summary, for a model file (.inkw) or an architecture (preset or spec):
// layers with their output shapes, parameters and FLOPs per image, then, for a file, its classes,
// input preprocessing and normalisation, and the training settings and figures stored in it.
// --selftest: every layer kind against the double-precision reference, on this machine.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "../common/cli.hpp"
#include "../common/model_source.hpp"
#include "../common/progress.hpp"
#include "inkwell/check/self_test.hpp"
#include "inkwell/classify/classify.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/nn/dnnl_compat.hpp"
#include "inkwell/nn/quantization.hpp"
#include "inkwell/nn/spec.hpp"
#include "inkwell/model_file/model_file.hpp"

namespace fs = std::filesystem;
using namespace inkwell;
namespace cli = inkwell::cli;

namespace {

std::string dims_text(const Dims& d) {
  std::string out;
  for (int64_t v : d) out += (out.empty() ? "" : "x") + std::to_string(v);
  return out;
}

std::string flops_text(double f) {
  char buf[32];
  if (f >= 1e9) std::snprintf(buf, sizeof buf, "%.2f G", f / 1e9);
  else if (f >= 1e6) std::snprintf(buf, sizeof buf, "%.2f M", f / 1e6);
  else if (f >= 1e3) std::snprintf(buf, sizeof buf, "%.1f k", f / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", f);
  return buf;
}

void print_layers(const Architecture& arch) {
  const ArchitectureShapes shapes = describe(arch);
  cli::say(stdout, "architecture  %s\ninput         %s (C x H x W)\n\n", arch.spec.c_str(), dims_text(arch.input).c_str());
  cli::say(stdout, "  #  %-14s %-12s %12s %12s\n", "layer", "output", "parameters", "FLOPs/image");
  int64_t params = 0;
  double flops = 0;
  for (size_t i = 0; i < shapes.layers.size(); ++i) {
    const LayerSummary& l = shapes.layers[i];
    cli::say(stdout, "%3zu  %-14s %-12s %12s %12s\n", i + 1, l.layer.c_str(), dims_text(l.output).c_str(),
             l.parameters ? cli::thousands(l.parameters).c_str() : "-", l.flops > 0 ? flops_text(l.flops).c_str() : "-");
    params += l.parameters, flops += l.flops;
  }
  cli::say(stdout, "     %-27s %12s %12s\n", "total", cli::thousands(params).c_str(), flops_text(flops).c_str());
  cli::say(stdout, "(FLOPs: conv and fc multiply-adds x 2; %s of f32 parameters)\n", (cli::thousands(params * 4 / 1024) + " KiB").c_str());
}

std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// Prints the self-test's table; exit 0 when every check passed, 1 otherwise.
cli::ExitCode run_self_test() {
  cli::say(stdout, "inkwell self-test: %s, %s, %s\n", cpu_name().c_str(), compat::version().c_str(), compat::isa_name().c_str());
  cli::say(stdout, "%-10s %-28s %-9s %-9s %7s %10s %10s\n", "layer", "in", "precision", "direction", "threads", "error",
           "tolerance");
  int failed = 0;
  const std::vector<check::SelfTestRow> rows = check::self_test();
  for (const check::SelfTestRow& r : rows) {
    cli::say(stdout, "%-10s %-28s %-9s %-9s %7d %10.2e %10.0e  %s\n", r.kind.c_str(), r.spec.c_str(), r.precision.c_str(),
             r.direction.c_str(), r.threads, r.error, r.tolerance, r.ok() ? "ok" : "MISMATCH");
    failed += !r.ok();
  }
  cli::say(stdout, "self-test: %zu passed, %d failed\n", rows.size() - failed, failed);
  return failed ? cli::kRuntimeError : cli::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::string target;
  bool self_test = false;
  CLI::App app("Summarises a model file (.inkw) or an architecture (a preset such as seed, or a spec): layers,\n"
               "output shapes, parameters and FLOPs per image; for a file, also its classes, preprocessing and\n"
               "the training settings and figures stored in it.",
               "inkwell-info");
  cli::configure(app, "\nexit: 0 done, 1 error (named), 2 usage error\n");
  auto* model = app.add_option("MODEL", target, "a model file (.inkw or .onnx), a preset (seed, fast, best) or a spec")->type_name("");
  cli::ModelSource source;
  cli::add_model_source_options(app, source);
  app.add_flag("--selftest", self_test,
               "checks every layer kind, in every precision this CPU runs, forward and backward, against a\n"
               "double-precision reference; prints a table and exits 1 on a mismatch")
      ->excludes(model);
  cli::parse(app, argc, argv);
  if (!self_test && target.empty()) cli::usage_error(app, "MODEL is required (or --selftest)");
  return cli::run_or_report("inkwell-info", [&] {
    if (self_test) return run_self_test();
    std::error_code ec;
    if (!fs::exists(target, ec)) {
      // Not a file: an architecture, named or spelt out.
      std::string spec;
      try {
        spec = resolve_spec(target);
      } catch (const std::exception& e) {
        cli::usage_error(app, "'" + target + "' is neither a file nor a preset or spec (" + e.what() + ")");
      }
      print_layers({spec, {1, 28, 28}});
      return cli::kOk;
    }
    const ModelFile f = cli::load_model_from(target, source);
    cli::say(stdout, "model file    %s (%s bytes)\n", target.c_str(), cli::thousands(static_cast<int64_t>(fs::file_size(target))).c_str());
    print_layers(f.architecture);
    std::string classes;
    for (size_t i = 0; i < f.classes.size() && i < 64; ++i) classes += (i ? " " : "") + f.classes[i];
    if (f.classes.size() > 64) classes += " ...";
    cli::say(stdout, "\nclasses       %zu: %s\n", f.classes.size(), classes.c_str());
    const bool emnist = preprocess_style(f) == PreprocessStyle::emnist;
    cli::say(stdout, "preprocessing real-world images %s\n",
             emnist ? "EMNIST-style (crop, square, 2-pixel border: 24 of 28 pixels, box centred)"
                       : "MNIST-style (fit in 20x20, centre of mass to the centre of 28x28)");
    cli::say(stdout, "normalisation (pixel / 255 - %.4f) / %.4f\n", f.normalization.mean, f.normalization.std);
    cli::say(stdout, "optimizer state %s\n", f.optimizer.empty() ? "none (inference only)" : "stored (resumable checkpoint)");
    // What inkwell-classify runs by default here: the plan measured on this machine (cached), checked.
    InferencePlanReport report;
    const InferencePlan here = classify_plan(f, ClassifyConfig{}, &report);
    cli::say(stdout, "plan here     %s\n", report.precision.summary().c_str());
    cli::say(stdout, "              %s\n", report.run_batch.summary().c_str());
    if (f.calibration.empty()) {
      cli::say(stdout, "int8          not calibrated (inkwell-quantize makes a calibrated copy)\n");
    } else {
      const Int8Plan& plan = here.int8;
      std::string layers;
      for (const LayerCalibration& l : f.calibration)
        layers += (layers.empty() ? "" : ", ") + l.layer + (plan.layers.count(l.layer) ? " int8" : " f32");
      cli::say(stdout, "int8          calibrated; here (%s): %s\n", compat::version().c_str(), layers.c_str());
      for (const std::string& note : plan.notes) cli::say(stdout, "              (%s)\n", note.c_str());
      for (const std::string& warning : plan.warnings) cli::say(stdout, "              warning: %s\n", warning.c_str());
    }
    if (!f.meta.empty()) {
      cli::say(stdout, "\nstored settings and figures:\n");
      for (const auto& [key, value] : f.meta) cli::say(stdout, "  %-20s %s\n", key.c_str(), value.c_str());
    }
    return cli::kOk;
  });
}
