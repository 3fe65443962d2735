#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "../common/cli.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/data/dataset.hpp"
#include "inkwell/nn/spec.hpp"
#include "inkwell/train/recipe.hpp"

namespace inkwell::train_app {

namespace {

std::unique_ptr<CLI::App> g_app;  // kept for usage_error() after parsing

// --valid: N images, X a share (0 <= X < 1, with a '.'), or P% (0 <= P < 100).
bool parse_valid(const std::string& text, ValidSize& v) {
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return false;
  const std::string rest(end);
  if (rest == "%") {
    if (!(x >= 0 && x < 100)) return false;
    v = {x / 100, -1, INT64_MAX};
    return true;
  }
  if (!rest.empty()) return false;
  if (text.find_first_of(".eE") != std::string::npos) {
    if (!(x >= 0 && x < 1)) return false;
    v = {x, -1, INT64_MAX};
    return true;
  }
  int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  v = {0, n, 0};
  return true;
}

// --model: a preset, else a spec; a mistyped preset is told as one, not as a bad layer.
std::string check_model(std::string& text) {
  const std::vector<std::string> presets = preset_names();
  if (std::find(presets.begin(), presets.end(), text) != presets.end()) return "";
  try {
    parse_spec(text);
    return "";
  } catch (const std::exception& e) {
    if (text.find('-') == std::string::npos) {
      std::string message = "'" + text + "' is not a preset (seed, fast, best) nor a spec (" + e.what() + ")";
      if (const std::string near = cli::did_you_mean(text, presets); !near.empty()) message += "; did you mean " + near + "?";
      return message;
    }
    return e.what();
  }
}

const char* kFooter = R"(
--resume DIR continues an interrupted run with its own settings; the result is the same as an
uninterrupted run's with the same --threads. Only --threads, --prefetch, --checkpoint-every,
--allreduce, --plan and --progress may be given with it.
Ctrl-C (SIGINT), SIGTERM or SIGHUP stops after the current step, saves, and exits with 130;
a second one exits at once.
exit: 0 done, 1 error (named), 2 usage error, 130 interrupted
)";

}  // namespace

[[noreturn]] void usage_error(const std::string& message) { cli::usage_error(*g_app, message); }

Options parse_options(int argc, char** argv) {
  Options options;
  RunSettings& o = options.run;
  RunControls& c = options.controls;
  std::string model = "seed";
  g_app = std::make_unique<CLI::App>(
      "Trains a CNN on MNIST, Fashion-MNIST, EMNIST or a tree of images, with a train/valid/test split,\n"
      "and writes model.inkw, metrics.csv, curves.svg, confusion.csv/.svg and per_class.csv to --out.",
      "inkwell-train");
  CLI::App& app = *g_app;
  cli::configure(app, kFooter);
  std::string prefetch = "auto", valid = "10%", checkpoint_every;
  app.add_option("--data", o.data,
                 "mnist, fashion, emnist-letters|digits|balanced|bymerge|byclass|mnist, a directory with the four IDX "
                 "files (MNIST's or EMNIST's names), an image tree "
                 "(DIR/<class>/*.png|jpg, or DIR/train/<class>/... and DIR/test/<class>/...), or a CSV manifest "
                 "with a path,label header")
      ->type_name("NAME|DIR|CSV")->capture_default_str();
  app.add_option("--test-fraction", o.test_fraction, "test share of a single image tree or manifest (seeded; MNIST's 1/7)")
      ->type_name("X")->check(cli::real(0, 1, true))->capture_default_str();
  app.add_flag("--skip-bad", o.skip_bad, "count and skip unreadable or corrupt images instead of stopping");
  app.add_option("--model", model,
                 "preset (seed, fast, best) or spec, e.g. conv16k5p2-relu-maxpool2-fc10. best brings its own recipe: "
                 "15 epochs, batch 128, lr 0.003, onecycle, --augment (not for fashion); flags override it")
      ->type_name("NAME|SPEC")->check(CLI::Validator(check_model, "", "model"))->capture_default_str();
  app.add_option("--epochs", o.epochs, "default 5")->type_name("N")->check(cli::whole(1, 100000));
  app.add_option("--batch", o.batch, "default 64")->type_name("N")->check(cli::whole(1, 65536));
  app.add_option("--lr", o.lr, "learning rate, default 0.001")->type_name("X")->check(cli::real(0, 1e6, true));
  app.add_option("--weight-decay", o.weight_decay, "L2 regularisation, default 0.0001")->type_name("X")->check(cli::real(0, 1));
  app.add_option("--optimizer", o.optimizer, "adam (coupled L2, as PyTorch), adamw (decoupled), sgd (momentum 0.9)")
      ->type_name("NAME")->check(cli::one_of({"adam", "adamw", "sgd"}))->capture_default_str();
  app.add_option("--schedule", o.schedule, "cosine (default), constant (the notebook's), onecycle")
      ->type_name("NAME")->check(cli::one_of({"cosine", "constant", "onecycle"}));
  app.add_option("--seed", o.seed, "split, shuffling, initialisation and augmentation")
      ->type_name("N")->check(cli::whole(0, INT64_MAX))->capture_default_str();
  app.add_option("--threads", c.threads, "compute threads; 0: the CPUs this process may use (affinity, cgroup quota)")->type_name("N")->check(cli::whole(0, 4096))->capture_default_str();
  app.add_option("--prefetch", prefetch,
                 "batches prepared (read, decoded, augmented) ahead of the step on a flow graph; 0: right before "
                 "each step, on its own threads; auto: 0 when the step has every core, else 4. Same results either way")
      ->type_name("N|auto")
      ->check(CLI::Validator([](std::string& t) -> std::string {
        std::string copy = t;
        return t == "auto" || cli::whole(0, 64)(copy).empty() ? "" : "takes auto or 0 to 64, got '" + t + "'";
      }, "", "prefetch"))->capture_default_str();
  app.add_option("--allreduce", c.allreduce,
                 "under mpirun, how the ranks sum gradients: once after backward, or overlapped with it, layer by "
                 "layer (faster over networks); auto: overlap when the ranks span nodes. Same results up to float rounding")
      ->type_name("auto|once|overlap")->check(cli::one_of({"auto", "once", "overlap"}))->capture_default_str();
  app.add_option("--valid", valid,
                 "validation images held out of the training set: N images, a share (0.1) or a percentage (10%); "
                 "default 10% capped at 5000 (MNIST: 5000; a share given is not capped)")
      ->type_name("N|X|P%")
      ->check(CLI::Validator([](std::string& t) -> std::string {
        ValidSize v;
        return parse_valid(t, v) ? "" : "needs N images, a share 0 <= X < 1 or a percentage P%, got '" + t + "'";
      }, "", "valid"));
  bool augment_flag = false, no_augment_flag = false;
  auto* augment = app.add_flag("--augment", augment_flag, "augment training images on the fly (rotation, scale, shift, stroke)");
  auto* no_augment = app.add_flag("--no-augment", no_augment_flag, "do not (for best, whose recipe augments)");
  augment->excludes(no_augment);
  app.add_option("--out", c.out, "where model.inkw, metrics.csv and the reports go")->type_name("DIR")->capture_default_str();
  app.add_flag("--force", c.force, "start a new run in --out even if it holds an unfinished one");
  app.add_flag("--keep-best", o.keep_best, "also keep best.inkw: the epoch with the best validation accuracy");
  app.add_flag("--test-at-end", o.test_at_end,
               "score the test set after the last epoch only (choose models on validation, not on test)");
  app.add_option("--init-from", o.init_from,
                 "fine-tune: start from this model file's (.inkw or .onnx) layers wherever name and shape match (the rest, e.g. a last "
                 "layer for another class count, is initialised anew), with its normalisation; --model defaults to its "
                 "architecture")
      ->type_name("MODEL")->check(CLI::ExistingFile);
  app.add_option("--freeze", o.freeze, "keep the first N parameterised layers (conv, bn, fc) fixed; with --init-from")
      ->type_name("N")->check(cli::whole(0, 255))->capture_default_str();
  app.add_option("--preprocess", o.preprocessing,
                 "how images of a tree or manifest become 28x28: mnist (fit in 20x20, centre of mass) or emnist (crop, "
                 "square, 2-pixel border); default: --init-from's, else mnist. IDX data keep their own (EMNIST: emnist). "
                 "Recorded in the model, so inkwell-classify does the same")
      ->type_name("STYLE")->check(cli::one_of({"mnist", "emnist"}));
  app.add_option("--precision", o.precision,
                 "bf16: convolutions compute in bf16 from f32 master weights (a CPU without native bf16 trains in f32 "
                 "and says so); auto: bf16 for the convolutions measured faster that way on this machine (--plan)")
      ->type_name("auto|f32|bf16")->check(cli::one_of({"auto", "f32", "bf16"}))->capture_default_str();
  app.add_option("--checkpoint-every", checkpoint_every,
                 "also save model.inkw every N steps, or every M minutes (10m), not only at the end of each epoch: "
                 "kill -9 then loses at most that much. The weights are the same with or without it")
      ->type_name("N|Mm")
      ->check(CLI::Validator([](std::string& t) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(t.c_str(), &end);
        const std::string rest(end);
        if (!t.empty() && std::isdigit(static_cast<unsigned char>(t[0])) && v > 0 &&
            (rest == "m" || (rest.empty() && t.find_first_not_of("0123456789") == std::string::npos)))
          return "";
        return "takes N steps or M minutes (10m), N, M > 0, got '" + t + "'";
      }, "", "every"));
  app.add_option("--resume", c.out, "continue the interrupted run in DIR")->type_name("DIR");
  cli::add_plan_option(app, c.plan);
  cli::add_progress_option(app, options.progress);
  cli::parse(app, argc, argv);

  options.resume = app.count("--resume") > 0;
  if (options.resume) {
    if (app.count("--out")) usage_error("--resume DIR is the run's --out: give one of them");
    for (const CLI::Option* opt : app.get_options())
      if (opt->count() && opt->get_name() != "--resume" && opt->get_name() != "--threads" &&
          opt->get_name() != "--prefetch" && opt->get_name() != "--checkpoint-every" && opt->get_name() != "--allreduce" &&
          opt->get_name() != "--progress" && opt->get_name() != "--plan")
        usage_error("--resume takes the run's settings from DIR/model.inkw; " + opt->get_name() +
                    " cannot be given with it (only --threads, --prefetch, --checkpoint-every, --allreduce, --plan, --progress)");
  }
  // The preset's recipe fills what the flags leave. Its augmentation models handwriting
  // (rotation, stroke width), so it stays off for Fashion-MNIST's clothes (docs/decisions.md).
  const Recipe r = preset_recipe(model);
  if (!app.count("--epochs")) o.epochs = r.epochs;
  if (!app.count("--batch")) o.batch = r.batch;
  if (!app.count("--lr")) o.lr = r.lr;
  if (!app.count("--weight-decay")) o.weight_decay = r.weight_decay;
  if (!app.count("--schedule")) o.schedule = r.schedule;
  o.augment = augment_flag ? true : no_augment_flag ? false : r.augment_handwriting && o.data != "fashion";

  c.prefetch = prefetch == "auto" ? kAutoPrefetch : std::stoi(prefetch);
  if (app.count("--valid")) parse_valid(valid, o.valid);  // a share given is not capped
  if (!checkpoint_every.empty()) {
    if (checkpoint_every.back() == 'm') c.checkpoint_minutes = std::stod(checkpoint_every);
    else c.checkpoint_steps = std::stoll(checkpoint_every);
  }
  if (o.keep_best && o.valid.count == 0) usage_error("--keep-best chooses by validation accuracy: it needs --valid above 0");
  if (o.freeze > 0 && o.init_from.empty()) usage_error("--freeze keeps pretrained layers fixed: it needs --init-from");
  // Not given, --model is --init-from's architecture (training_run.hpp), else the seed preset.
  if (app.count("--model") || o.init_from.empty()) o.model = model;

  // --data: a known name, or a path that exists; a typo of a name is told as one.
  const std::vector<std::string> names = dataset_names();
  if (!options.resume && std::find(names.begin(), names.end(), o.data) == names.end() && !std::filesystem::exists(o.data)) {
    std::string message = "--data: '" + o.data + "' is neither a dataset name (";
    for (size_t i = 0; i < names.size(); ++i) message += (i ? ", " : "") + names[i];
    message += ") nor an existing file or directory";
    if (const std::string near = cli::did_you_mean(o.data, names); !near.empty()) message += "; did you mean " + near + "?";
    usage_error(message);
  }
  return options;
}

}  // namespace inkwell::train_app
