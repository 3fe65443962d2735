// inkwell-train: trains a CNN on MNIST or Fashion-MNIST with a train/valid/test split, prints one
// line per epoch, and after every epoch writes to DIR: model.inkw, metrics.csv, curves.svg
// (accuracy and loss per epoch), confusion.csv + confusion.svg and per_class.csv (test set).
// SIGINT/SIGTERM stop after the current step and save; --resume DIR goes on from there.
#include <omp.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "../common/cli.hpp"
#include "../common/stop_signals.hpp"
#include "inkwell/core/atomic_file.hpp"
#include "inkwell/train/checkpoint.hpp"
#include "inkwell/data/dataset.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/data/image_dataset.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/train/optimizer.hpp"
#include "inkwell/train/recipe.hpp"
#include "inkwell/train/report.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/train/schedule.hpp"
#include "inkwell/train/train.hpp"

namespace fs = std::filesystem;
using namespace inkwell;
namespace cli = inkwell::cli;

namespace {

// Defaults reproduce the PyTorch notebook: Adam, lr 1e-3, L2 1e-4, batch 64, 5,000 validation images;
// a preset with a recipe of its own (--model best) changes epochs, batch, lr, weight decay,
// schedule and augmentation unless they are given.
struct Options {
  std::string data = "mnist";      // mnist | fashion | IDX directory | PNG tree | CSV manifest
  double test_fraction = 1.0 / 7;  // held out as test data from a single PNG tree or manifest (MNIST's 10k of 70k)
  bool skip_bad = false;           // PNG data: count and skip bad files instead of stopping
  std::string model = "seed";      // preset name or spec string (see lib/include/inkwell/spec.hpp)
  int epochs = 5;
  int64_t batch = 64;
  double lr = 1e-3;
  double weight_decay = 1e-4;
  std::string optimizer = "adam";  // adam | adamw | sgd
  std::string schedule = "cosine";  // decays to 0 over the run: +0.3 points over constant (docs/decisions.md)
  uint64_t seed = 0;
  int threads = 0;                 // 0: all cores
  int64_t valid = 5000;            // images held out of the training set for validation
  int64_t eval_batch = 500;        // batch of the inference model used for valid/test
  std::string out = "runs/latest";
  bool augment = false;            // random affine + stroke augmentation of training images
  bool resume = false;             // settings and state come from out/model.inkw
  int prefetch = kAutoPrefetch;    // batches prepared ahead of the step; 0: right before it
  int64_t checkpoint_steps = 0;    // also save every N steps (0: only at epoch ends) ...
  double checkpoint_minutes = 0;   // ... or every M minutes of training
};

const char* kUsage = R"(usage: inkwell-train [options]
       inkwell-train --resume DIR [--threads N]
  --data NAME|DIR|CSV   mnist (default), fashion, emnist-letters, emnist-digits, a directory with
                        the four IDX files (MNIST's or EMNIST's names), a PNG tree
                        (DIR/<class>/*.png, or DIR/train/<class>/... and DIR/test/<class>/...),
                        or a CSV manifest of path,label
  --test-fraction X     test share of a single PNG tree or manifest, default 0.1429 (1/7, seeded)
  --skip-bad            count and skip unreadable or corrupt PNGs instead of stopping
  --model NAME|SPEC     preset (seed, fast, best) or spec, e.g. conv16k5p2-relu-maxpool2-fc10 (default
                        seed). best brings its own recipe: 15 epochs, batch 128, lr 0.003, onecycle,
                        --augment (not for --data fashion); the flags below override it
  --epochs N            default 5
  --batch N             default 64
  --lr X                learning rate, default 0.001
  --weight-decay X      L2 regularisation, default 0.0001
  --optimizer NAME      adam (coupled L2, as PyTorch), adamw (decoupled), sgd (momentum 0.9)
  --schedule NAME       cosine (default), constant (the notebook's), onecycle
  --seed N              split, shuffling, initialisation and augmentation, default 0
  --threads N           compute threads, default all cores
  --prefetch N|auto     batches prepared (read, decoded, augmented) ahead of the training step on
                        a flow graph; 0 prepares each right before its step, on the step's own
                        threads. auto (default): 0 when the step has every core, else 4. The
                        results are the same either way
  --valid N             validation images held out of the training set, default 5000
  --augment             augment training images on the fly (rotation, scale, shift, stroke)
  --no-augment          do not (for best, whose recipe augments)
  --out DIR             where model.inkw, metrics.csv and the reports go, default runs/latest
  --checkpoint-every N|Mm  also save DIR/model.inkw every N steps, or every M minutes (10m), not
                        only at the end of each epoch: kill -9 then loses at most that much.
                        The weights are the same with or without it
  --resume DIR          continue an interrupted run in DIR with its own settings; the result is
                        the same as an uninterrupted run's with the same --threads (only
                        --threads, --prefetch and --checkpoint-every may be given with it)
Ctrl-C (SIGINT), SIGTERM or SIGHUP stops after the current step, saves, and exits with 130;
a second one exits at once.
)";

[[noreturn]] void usage_error(const std::string& message) { cli::usage_error("inkwell-train", kUsage, message); }

template <typename T>
T number(const std::string& flag, const std::string& text) {
  std::istringstream in(text);
  T v;
  if (!(in >> v) || !in.eof()) usage_error(flag + " needs a number, got '" + text + "'");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  // The preset's recipe first: the flags override it. Its augmentation models handwriting
  // (rotation, stroke width), so it stays off for Fashion-MNIST's clothes (docs/decisions.md).
  std::string model = o.model, data = o.data;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--model") model = argv[i + 1];
    if (std::string(argv[i]) == "--data") data = argv[i + 1];
  }
  const Recipe r = preset_recipe(model);
  o.epochs = r.epochs, o.batch = r.batch, o.lr = r.lr, o.weight_decay = r.weight_decay, o.schedule = r.schedule;
  o.augment = r.augment_handwriting && data != "fashion";
  bool settings_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (flag == "--augment" || flag == "--no-augment" || flag == "--skip-bad") {
      if (flag == "--skip-bad") o.skip_bad = true;
      else o.augment = flag == "--augment";
      settings_given = true;
      continue;
    }
    if (i + 1 >= argc) usage_error("unknown option or missing value: " + flag);
    const std::string v = argv[++i];
    settings_given |= flag != "--threads" && flag != "--prefetch" && flag != "--resume" && flag != "--checkpoint-every";
    if (flag == "--data") o.data = v;
    else if (flag == "--model") o.model = v;
    else if (flag == "--epochs") o.epochs = number<int>(flag, v);
    else if (flag == "--batch") o.batch = number<int64_t>(flag, v);
    else if (flag == "--lr") o.lr = number<double>(flag, v);
    else if (flag == "--weight-decay") o.weight_decay = number<double>(flag, v);
    else if (flag == "--optimizer") o.optimizer = v;
    else if (flag == "--schedule") o.schedule = v;
    else if (flag == "--seed") o.seed = number<uint64_t>(flag, v);
    else if (flag == "--threads") o.threads = number<int>(flag, v);
    else if (flag == "--prefetch") o.prefetch = v == "auto" ? kAutoPrefetch : number<int>(flag, v);
    else if (flag == "--valid") o.valid = number<int64_t>(flag, v);
    else if (flag == "--test-fraction") o.test_fraction = number<double>(flag, v);
    else if (flag == "--out") o.out = v;
    else if (flag == "--resume") o.out = v, o.resume = true;
    else if (flag == "--checkpoint-every") {
      if (v.ends_with("m")) o.checkpoint_minutes = number<double>(flag, v.substr(0, v.size() - 1));
      else o.checkpoint_steps = number<int64_t>(flag, v);
      if (!(o.checkpoint_minutes > 0) && o.checkpoint_steps < 1) usage_error("--checkpoint-every takes N steps or M minutes (10m), N, M > 0");
    }
    else usage_error("unknown option " + flag);
  }
  if (o.resume && settings_given)
    usage_error("--resume takes the run's settings from DIR/model.inkw; only --threads, --prefetch and --checkpoint-every may be given");
  if (o.epochs < 1) usage_error("--epochs must be at least 1");
  if (o.batch < 1 || o.batch > 65536) usage_error("--batch must be 1 to 65536");
  if (!(o.lr > 0)) usage_error("--lr must be positive");
  if (!(o.weight_decay >= 0)) usage_error("--weight-decay must be >= 0");
  if (o.threads < 0) usage_error("--threads must be >= 0");
  if ((o.prefetch < 0 && o.prefetch != kAutoPrefetch) || o.prefetch > 64) usage_error("--prefetch must be 0 to 64 or auto");
  if (o.valid < 0) usage_error("--valid must be >= 0");
  if (!(o.test_fraction > 0 && o.test_fraction < 1)) usage_error("--test-fraction must be between 0 and 1");
  return o;
}

// --data: a named IDX dataset, an IDX directory, a PNG tree (split or not) or a CSV manifest.
DatasetSplits load_data(const Options& o) {
  for (const char* name : {"mnist", "fashion", "emnist-letters", "emnist-digits"})
    if (o.data == name) return load_named_dataset(o.data, dataset_dir(o.data));
  const fs::path path(o.data);
  auto has = [&](const std::string& f) { return fs::exists(path / f) || fs::exists(path / (f + ".gz")); };
  if (fs::is_directory(path) && has("train-images-idx3-ubyte")) return load_named_dataset("mnist", o.data);
  for (const char* name : {"emnist-letters", "emnist-digits"})
    if (fs::is_directory(path) && has(std::string(name) + "-train-images-idx3-ubyte")) return load_named_dataset(name, o.data);
  ImageLoadOptions options;
  options.skip_bad = o.skip_bad;
  ImageLoadReport report;
  DatasetSplits s;
  if (fs::is_directory(path) && fs::is_directory(path / "train") && fs::is_directory(path / "test")) {
    s.train = load_image_folder((path / "train").string(), options, &report);
    options.classes = s.train.classes;
    s.test = load_image_folder((path / "test").string(), options, &report);
  } else {
    const Dataset all = path.extension() == ".csv" ? load_manifest(o.data, options, &report)
                                                   : load_image_folder(o.data, options, &report);
    std::tie(s.train, s.test) = split_dataset(all, o.test_fraction, o.seed);
  }
  s.normalization = measure_normalization(s.train);
  if (report.skipped) {
    std::fprintf(stderr, "inkwell-train: skipped %lld bad files (--skip-bad), for example:\n", static_cast<long long>(report.skipped));
    for (const std::string& e : report.errors) std::fprintf(stderr, "  %s\n", e.c_str());
  }
  return s;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string exact(double v) {  // round-trips through text
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// One finished epoch: its metrics.csv line, and the figures curves.svg draws.
struct EpochRow {
  std::string csv;
  CurvePoint point;
};

const char* kMetricsHeader = "epoch,train_loss,train_acc,valid_loss,valid_acc,test_loss,test_acc,images_per_sec,seconds";

EpochRow make_row(int epoch, const Metrics& train, const Metrics& valid, const Metrics& test) {
  // seconds: the epoch's training steps plus its validation pass (not the test pass).
  const bool has_valid = valid.images > 0;
  const std::string csv = std::to_string(epoch) + "," + fixed(train.loss, 6) + "," + fixed(train.accuracy, 6) + "," +
                          (has_valid ? fixed(valid.loss, 6) + "," + fixed(valid.accuracy, 6) : ",") + "," +
                          fixed(test.loss, 6) + "," + fixed(test.accuracy, 6) + "," +
                          fixed(train.images / train.seconds, 1) + "," + fixed(train.seconds + valid.seconds, 3);
  return {csv, {epoch, train.loss, train.accuracy, valid.loss, valid.accuracy, test.loss, test.accuracy, has_valid}};
}

// The rows of an existing metrics.csv (--resume), checked to be this program's, epochs 1..n.
std::vector<EpochRow> read_rows(const std::string& path, int epochs_done) {
  if (epochs_done == 0) return {};  // interrupted in epoch 1: no metrics yet
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line) || line != kMetricsHeader) throw error(path, ": missing, or not a metrics file of inkwell-train");
  std::vector<EpochRow> rows;
  while (std::getline(in, line) && static_cast<int>(rows.size()) < epochs_done) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
    if (f.size() != 9 || std::stoi(f[0]) != static_cast<int>(rows.size()) + 1) throw error(path, ": unexpected row '", line, "'");
    const bool has_valid = !f[3].empty();
    rows.push_back({line, {std::stoi(f[0]), std::stod(f[1]), std::stod(f[2]), has_valid ? std::stod(f[3]) : 0,
                           has_valid ? std::stod(f[4]) : 0, std::stod(f[5]), std::stod(f[6]), has_valid}});
  }
  if (static_cast<int>(rows.size()) != epochs_done) throw error(path, ": ", rows.size(), " rows, the checkpoint has ", epochs_done, " epochs done");
  return rows;
}

void write_reports(const std::string& dir, const std::vector<EpochRow>& rows, const std::vector<std::string>& classes,
                   const std::vector<int64_t>& confusion) {
  std::string csv = std::string(kMetricsHeader) + "\n";
  std::vector<CurvePoint> points;
  for (const EpochRow& r : rows) csv += r.csv + "\n", points.push_back(r.point);
  write_file_atomically((fs::path(dir) / "metrics.csv").string(), csv);
  write_file_atomically((fs::path(dir) / "curves.svg").string(), curves_svg(points));
  write_file_atomically((fs::path(dir) / "confusion.csv").string(), confusion_csv(classes, confusion));
  write_file_atomically((fs::path(dir) / "confusion.svg").string(), confusion_svg(classes, confusion));
  write_file_atomically((fs::path(dir) / "per_class.csv").string(), per_class_csv(classes, confusion));
}

// Where a run stands: the epoch in progress (1-based) and how far into it.
struct RunState {
  int epoch = 1;
  EpochState partial;
};

// The checkpoint: weights, Adam state, settings and RunState in the metadata.
ModelFile checkpoint(const Model& model, const Optimizer& opt, const Options& o, const DatasetSplits& data,
                     const RunState& st) {
  ModelFile f;
  f.architecture = model.architecture();
  f.classes = data.train.classes;
  f.normalization = data.normalization;
  f.tensors = model.state();
  const ParamArena& arena = model.params();
  for (const Param& p : arena.params()) {
    f.optimizer.push_back({p.name + ".m", p.dims, arena.read_plain(p, opt.m().data())});
    if (!opt.v().empty()) f.optimizer.push_back({p.name + ".v", p.dims, arena.read_plain(p, opt.v().data())});
  }
  f.meta = {{"data", o.data}, {"epochs", std::to_string(o.epochs)}, {"batch", std::to_string(o.batch)},
            {"lr", exact(o.lr)}, {"weight_decay", exact(o.weight_decay)}, {"optimizer", o.optimizer},
            {"schedule", o.schedule}, {"seed", std::to_string(o.seed)}, {"valid", std::to_string(o.valid)},
            {"augment", o.augment ? "yes" : "no"}, {"test_fraction", exact(o.test_fraction)},
            {"skip_bad", o.skip_bad ? "yes" : "no"}, {"optimizer.steps", std::to_string(opt.steps())},
            {"epoch", std::to_string(st.epoch)}, {"epoch.steps_done", std::to_string(st.partial.steps_done)},
            {"epoch.loss_sum", exact(st.partial.loss_sum)}, {"epoch.correct", std::to_string(st.partial.correct)},
            {"epoch.images", std::to_string(st.partial.images)}, {"epoch.seconds", exact(st.partial.seconds)}};
  return f;
}

const std::string& meta(const ModelFile& f, const std::string& path, const char* key) {
  const auto it = f.meta.find(key);
  if (it == f.meta.end()) throw error(path, ": not a resumable checkpoint (no '", key, "')");
  return it->second;
}

int run(Options o) {
  const std::string model_path = (fs::path(o.out) / "model.inkw").string();
  ModelFile saved;
  RunState st;
  if (o.resume) {
    saved = load_model_file(model_path);
    auto get = [&](const char* key) { return meta(saved, model_path, key); };
    o.data = get("data"), o.model = saved.architecture.spec, o.epochs = std::stoi(get("epochs"));
    o.batch = std::stoll(get("batch")), o.lr = std::stod(get("lr")), o.weight_decay = std::stod(get("weight_decay"));
    o.optimizer = get("optimizer"), o.schedule = get("schedule"), o.seed = std::stoull(get("seed"));
    o.valid = std::stoll(get("valid")), o.augment = get("augment") == "yes";
    o.test_fraction = std::stod(get("test_fraction")), o.skip_bad = get("skip_bad") == "yes";
    st.epoch = std::stoi(get("epoch"));
    st.partial = {std::stoll(get("epoch.steps_done")), std::stod(get("epoch.loss_sum")), std::stoll(get("epoch.correct")),
                  std::stoll(get("epoch.images")), std::stod(get("epoch.seconds"))};
    if (st.epoch > o.epochs) {
      std::printf("inkwell-train: %s is complete (%d epochs)\n", o.out.c_str(), o.epochs);
      return 0;
    }
  }
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const OptimizerConfig opt_config{parse_optimizer_kind(o.optimizer), o.weight_decay};
  const Schedule schedule = parse_schedule(o.schedule);
  const DatasetSplits data = load_data(o);
  // A preset ends in fc10; with other than 10 classes (EMNIST letters: 26), its last layer follows.
  const std::string spec = resolve_spec(o.model);
  const Architecture arch{spec == o.model ? spec : with_outputs(spec, static_cast<int64_t>(data.train.classes.size())),
                          {1, 28, 28}};
  if (o.valid >= data.train.size()) usage_error("--valid must be below the " + std::to_string(data.train.size()) + " training images");

  // One generator, seeded, makes the split (the first `valid` images of a permutation validate)
  // and then every epoch's shuffle: replaying it rebuilds any epoch's order on --resume.
  Rng rng(o.seed);
  std::vector<uint32_t> perm(data.train.size());
  std::iota(perm.begin(), perm.end(), 0u);
  rng.shuffle(std::span(perm));
  const std::vector<uint32_t> valid_idx(perm.begin(), perm.begin() + o.valid);
  std::vector<uint32_t> train_idx(perm.begin() + o.valid, perm.end());
  std::vector<uint32_t> test_idx(data.test.size());
  std::iota(test_idx.begin(), test_idx.end(), 0u);
  for (int e = 1; e < st.epoch; ++e) rng.shuffle(std::span(train_idx));

  Model model(arch, o.batch, Mode::train);
  Model eval(arch, o.eval_batch, Mode::infer);
  Optimizer optimizer(opt_config, model.params().size());
  std::vector<EpochRow> rows;
  if (o.resume) {
    model.load_state(saved.tensors);
    ParamArena& arena = model.params();
    size_t t = 0;
    for (const Param& p : arena.params()) {
      arena.write_plain(p, optimizer.m().data(), saved.optimizer.at(t++).data);
      if (!optimizer.v().empty()) arena.write_plain(p, optimizer.v().data(), saved.optimizer.at(t++).data);
    }
    optimizer.set_steps(std::stoll(meta(saved, model_path, "optimizer.steps")));
    rows = read_rows((fs::path(o.out) / "metrics.csv").string(), st.epoch - 1);
    std::printf("inkwell-train: resuming %s at epoch %d, step %lld\n", o.out.c_str(), st.epoch,
                static_cast<long long>(st.partial.steps_done));
  } else {
    model.init_params(o.seed);
  }
  const int64_t steps_per_epoch = (static_cast<int64_t>(train_idx.size()) + o.batch - 1) / o.batch;
  const LearningRate lr{schedule, o.lr, steps_per_epoch * o.epochs};

  fs::create_directories(o.out);
  cli::install_stop_signals();  // before the header: once it is printed, a signal saves
  std::printf("inkwell-train: %s on %s (%lld train, %lld valid, %lld test), %s lr %g wd %g %s%s, batch %lld, %d threads\n",
              arch.spec.c_str(), o.data.c_str(), static_cast<long long>(train_idx.size()),
              static_cast<long long>(valid_idx.size()), static_cast<long long>(test_idx.size()), o.optimizer.c_str(),
              o.lr, o.weight_decay, o.schedule.c_str(), o.augment ? ", augmented" : "", static_cast<long long>(o.batch),
              omp_get_max_threads());
  std::fflush(stdout);
  auto save = [&] {
    save_model_file(model_path, checkpoint(model, optimizer, o, data, st));
  };

  const bool tty = isatty(fileno(stdout));
  // --checkpoint-every: the step loop pauses, the run is saved exactly as a Ctrl-C saves it, and
  // the same epoch goes on from there (train_epoch continues from st.partial.steps_done).
  auto last_checkpoint = std::chrono::steady_clock::now();
  auto checkpoint_due = [&](int64_t step) {
    if (o.checkpoint_steps > 0 && step % o.checkpoint_steps == 0) return true;
    return o.checkpoint_minutes > 0 &&
           std::chrono::steady_clock::now() - last_checkpoint >= std::chrono::duration<double, std::ratio<60>>(o.checkpoint_minutes);
  };
  while (st.epoch <= o.epochs) {
    rng.shuffle(std::span(train_idx));
    // On a terminal, a live line: step, loss, images/s and time left in this epoch.
    const auto epoch_start = std::chrono::steady_clock::now();
    const int64_t first_step = st.partial.steps_done;
    std::atomic<bool> pause{false};  // Ctrl-C, or a checkpoint due
    auto progress = [&](int64_t step, int64_t steps, double loss) {
      if (cli::stop_requested || (step < steps && checkpoint_due(step))) pause = true;
      if (!tty || (step % 50 != 0 && step != steps)) return;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
      const double per_step = s / static_cast<double>(step - first_step);
      std::printf("\repoch %d  step %lld/%lld  loss %.4f  %.0f img/s  ETA %.0f s\033[K", st.epoch,
                  static_cast<long long>(step), static_cast<long long>(steps), loss, static_cast<double>(o.batch) / per_step,
                  per_step * static_cast<double>(steps - step));
      std::fflush(stdout);
    };
    bool complete = false;
    while (!complete) {
      pause = false;
      complete = train_epoch(model, optimizer, data.train, train_idx, data.normalization, lr, st.partial,
                             {o.augment, o.seed, o.prefetch}, progress, &pause);
      if (complete) break;
      save();
      last_checkpoint = std::chrono::steady_clock::now();
      if (cli::stop_requested) {
        if (tty) std::printf("\r\033[K");
        std::printf("inkwell-train: interrupted at epoch %d, step %lld of %lld; saved %s\n"
                    "continue with: inkwell-train --resume %s\n",
                    st.epoch, static_cast<long long>(st.partial.steps_done), static_cast<long long>(steps_per_epoch),
                    model_path.c_str(), o.out.c_str());
        return 130;
      }
    }
    if (tty) std::printf("\r\033[K");
    const Metrics train = st.partial.metrics();
    eval.load_state(model.state());
    const Metrics valid = valid_idx.empty() ? Metrics{} : evaluate(eval, data.train, valid_idx, data.normalization);
    std::vector<int64_t> confusion;
    const Metrics test = evaluate(eval, data.test, test_idx, data.normalization, &confusion);
    rows.push_back(make_row(st.epoch, train, valid, test));
    std::printf("epoch %2d  train loss %.4f acc %.4f | valid loss %.4f acc %.4f | %.0f img/s  %.2f s\n", st.epoch,
                train.loss, train.accuracy, valid.loss, valid.accuracy, train.images / train.seconds,
                train.seconds + valid.seconds);
    std::fflush(stdout);
    ++st.epoch;  // saved as the start of the next epoch
    st.partial = {};
    save();
    write_reports(o.out, rows, data.test.classes, confusion);
    if (cli::stop_requested && st.epoch <= o.epochs) {
      std::printf("inkwell-train: interrupted after epoch %d; saved %s\ncontinue with: inkwell-train --resume %s\n",
                  st.epoch - 1, model_path.c_str(), o.out.c_str());
      return 130;
    }
  }
  const CurvePoint& last = rows.back().point;
  std::printf("test loss %.4f  test accuracy %.4f (%.2f%%)\n", last.test_loss, last.test_acc, 100 * last.test_acc);
  std::printf("wrote %s, metrics.csv, curves.svg, confusion.csv/.svg and per_class.csv in %s\n", model_path.c_str(),
              o.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  return cli::run_or_report("inkwell-train", [&] { return run(options); });
}
