// inkwell-train: trains a CNN on MNIST or Fashion-MNIST with a train/valid/test split, prints one
// line per epoch, and after every epoch writes to DIR: model.inkw, metrics.csv, curves.svg
// (accuracy and loss per epoch), confusion.csv + confusion.svg and per_class.csv (test set).
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "inkwell/atomic_file.hpp"
#include "inkwell/checkpoint.hpp"
#include "inkwell/dataset.hpp"
#include "inkwell/error.hpp"
#include "inkwell/model.hpp"
#include "inkwell/optimizer.hpp"
#include "inkwell/report.hpp"
#include "inkwell/rng.hpp"
#include "inkwell/schedule.hpp"
#include "inkwell/train.hpp"

namespace fs = std::filesystem;
using namespace inkwell;

namespace {

// Defaults reproduce the PyTorch notebook: Adam, lr 1e-3, L2 1e-4, batch 64, 5,000 validation images.
struct Options {
  std::string data = "mnist";      // mnist | fashion | a directory with the four IDX files
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
};

const char* kUsage = R"(usage: inkwell-train [options]
  --data NAME|DIR       mnist (default), fashion, or a directory with the four IDX files
  --model NAME|SPEC     preset (seed, fast) or spec, e.g. conv16k5p2-relu-maxpool2-fc10 (default seed)
  --epochs N            default 5
  --batch N             default 64
  --lr X                learning rate, default 0.001
  --weight-decay X      L2 regularisation, default 0.0001
  --optimizer NAME      adam (coupled L2, as PyTorch), adamw (decoupled), sgd (momentum 0.9)
  --schedule NAME       cosine (default), constant (the notebook's), onecycle
  --seed N              split, shuffling and initialisation, default 0
  --threads N           compute threads, default all cores
  --valid N             validation images held out of the training set, default 5000
  --augment             augment training images on the fly (rotation, scale, shift, stroke)
  --out DIR             where model.inkw and metrics.csv go, default runs/latest
)";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "inkwell-train: " << message << "\n" << kUsage;
  std::exit(2);
}

template <typename T>
T number(const std::string& flag, const std::string& text) {
  std::istringstream in(text);
  T v;
  if (!(in >> v) || !in.eof()) usage_error(flag + " needs a number, got '" + text + "'");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (flag == "--augment") {
      o.augment = true;
      continue;
    }
    if (i + 1 >= argc) usage_error("unknown option or missing value: " + flag);
    const std::string v = argv[++i];
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
    else if (flag == "--valid") o.valid = number<int64_t>(flag, v);
    else if (flag == "--out") o.out = v;
    else usage_error("unknown option " + flag);
  }
  if (o.epochs < 1) usage_error("--epochs must be at least 1");
  if (o.batch < 1 || o.batch > 65536) usage_error("--batch must be 1 to 65536");
  if (!(o.lr > 0)) usage_error("--lr must be positive");
  if (!(o.weight_decay >= 0)) usage_error("--weight-decay must be >= 0");
  if (o.threads < 0) usage_error("--threads must be >= 0");
  if (o.valid < 0) usage_error("--valid must be >= 0");
  return o;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

struct EpochRow {
  int epoch;
  Metrics train, valid, test;
};

std::string metrics_csv(const std::vector<EpochRow>& rows) {
  std::string csv = "epoch,train_loss,train_acc,valid_loss,valid_acc,test_loss,test_acc,images_per_sec,seconds\n";
  for (const EpochRow& r : rows) {
    // seconds: the epoch's training steps plus its validation pass (not the test pass).
    const double seconds = r.train.seconds + r.valid.seconds;
    csv += std::to_string(r.epoch) + "," + fixed(r.train.loss, 6) + "," + fixed(r.train.accuracy, 6) + "," +
           (r.valid.images ? fixed(r.valid.loss, 6) + "," + fixed(r.valid.accuracy, 6) : ",") + "," +
           fixed(r.test.loss, 6) + "," + fixed(r.test.accuracy, 6) + "," +
           fixed(r.train.images / r.train.seconds, 1) + "," + fixed(seconds, 3) + "\n";
  }
  return csv;
}

// curves.svg over all epochs so far; the confusion matrix and per-class accuracy of this epoch.
void write_reports(const std::string& dir, const std::vector<EpochRow>& rows, const std::vector<std::string>& classes,
                   const std::vector<int64_t>& confusion) {
  std::vector<CurvePoint> points;
  for (const EpochRow& r : rows)
    points.push_back({r.epoch, r.train.loss, r.train.accuracy, r.valid.loss, r.valid.accuracy, r.test.loss,
                      r.test.accuracy, r.valid.images > 0});
  write_file_atomically((fs::path(dir) / "curves.svg").string(), curves_svg(points));
  write_file_atomically((fs::path(dir) / "confusion.csv").string(), confusion_csv(classes, confusion));
  write_file_atomically((fs::path(dir) / "confusion.svg").string(), confusion_svg(classes, confusion));
  write_file_atomically((fs::path(dir) / "per_class.csv").string(), per_class_csv(classes, confusion));
}

ModelFile model_file(const Model& model, const Optimizer& opt, const Options& o, const DatasetSplits& data, int epoch) {
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
  f.meta = {{"optimizer", o.optimizer}, {"optimizer.steps", std::to_string(opt.steps())},
            {"epoch", std::to_string(epoch)}, {"seed", std::to_string(o.seed)}, {"data", o.data},
            {"lr", fixed(o.lr, 8)}, {"weight_decay", fixed(o.weight_decay, 8)}, {"schedule", o.schedule},
            {"augment", o.augment ? "yes" : "no"}, {"epochs", std::to_string(o.epochs)}, {"batch", std::to_string(o.batch)}};
  return f;
}

int run(const Options& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const OptimizerConfig opt_config{parse_optimizer_kind(o.optimizer), o.weight_decay};
  const Schedule schedule = parse_schedule(o.schedule);
  const Architecture arch{resolve_spec(o.model), {1, 28, 28}};

  const bool named = o.data == "mnist" || o.data == "fashion";
  const DatasetSplits data = load_named_dataset(named ? o.data : "mnist", named ? dataset_dir(o.data) : o.data);
  if (o.valid >= data.train.size()) usage_error("--valid must be below the " + std::to_string(data.train.size()) + " training images");

  // Seeded split of the training set: the first `valid` images of a permutation validate.
  Rng rng(o.seed);
  std::vector<uint32_t> perm(data.train.size());
  std::iota(perm.begin(), perm.end(), 0u);
  rng.shuffle(std::span(perm));
  const std::vector<uint32_t> valid_idx(perm.begin(), perm.begin() + o.valid);
  std::vector<uint32_t> train_idx(perm.begin() + o.valid, perm.end());
  std::vector<uint32_t> test_idx(data.test.size());
  std::iota(test_idx.begin(), test_idx.end(), 0u);

  Model model(arch, o.batch, Mode::train);
  Model eval(arch, o.eval_batch, Mode::infer);
  model.init_params(o.seed);
  Optimizer optimizer(opt_config, model.params().size());
  const int64_t steps_per_epoch = (static_cast<int64_t>(train_idx.size()) + o.batch - 1) / o.batch;
  const LearningRate lr{schedule, o.lr, steps_per_epoch * o.epochs};

  fs::create_directories(o.out);
  const std::string model_path = (fs::path(o.out) / "model.inkw").string();
  const std::string metrics_path = (fs::path(o.out) / "metrics.csv").string();
  std::printf("inkwell-train: %s on %s (%lld train, %lld valid, %lld test), %s lr %g wd %g %s, batch %lld, %d threads\n",
              arch.spec.c_str(), o.data.c_str(), static_cast<long long>(train_idx.size()),
              static_cast<long long>(valid_idx.size()), static_cast<long long>(test_idx.size()), o.optimizer.c_str(),
              o.lr, o.weight_decay, o.schedule.c_str(), static_cast<long long>(o.batch), omp_get_max_threads());

  Rng augment_rng(o.seed ^ 0xa5a5a5a5u);  // its own stream: --augment leaves the split and shuffles as they are
  const bool tty = isatty(fileno(stdout));
  std::vector<EpochRow> rows;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    rng.shuffle(std::span(train_idx));
    auto progress = [&](int64_t step, int64_t steps, double loss) {
      if (tty && (step % 50 == 0 || step == steps))
        std::printf("\repoch %d  step %lld/%lld  loss %.4f", epoch, static_cast<long long>(step), static_cast<long long>(steps), loss),
            std::fflush(stdout);
    };
    EpochRow row{epoch, train_epoch(model, optimizer, data.train, train_idx, data.normalization, lr, progress,
                                    o.augment ? &augment_rng : nullptr), {}, {}};
    if (tty) std::printf("\r\033[K");
    eval.load_state(model.state());
    if (!valid_idx.empty()) row.valid = evaluate(eval, data.train, valid_idx, data.normalization);
    std::vector<int64_t> confusion;
    row.test = evaluate(eval, data.test, test_idx, data.normalization, &confusion);
    rows.push_back(row);
    std::printf("epoch %2d  train loss %.4f acc %.4f | valid loss %.4f acc %.4f | %.0f img/s  %.2f s\n", epoch,
                row.train.loss, row.train.accuracy, row.valid.loss, row.valid.accuracy,
                row.train.images / row.train.seconds, row.train.seconds + row.valid.seconds);
    std::fflush(stdout);
    save_model_file(model_path, model_file(model, optimizer, o, data, epoch));
    write_file_atomically(metrics_path, metrics_csv(rows));
    write_reports(o.out, rows, data.test.classes, confusion);
  }
  const Metrics& test = rows.back().test;
  std::printf("test loss %.4f  test accuracy %.4f (%.2f%%)\n", test.loss, test.accuracy, 100 * test.accuracy);
  std::printf("wrote %s, %s, curves.svg, confusion.csv/.svg and per_class.csv in %s\n", model_path.c_str(),
              metrics_path.c_str(), o.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "inkwell-train: %s\n", e.what());
    return 1;
  }
}
