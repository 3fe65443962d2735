// inkwell-train: trains a CNN on MNIST, Fashion-MNIST, EMNIST or an image tree with a
// train/valid/test split, prints one line per epoch, and after every epoch writes to DIR:
// model.inkw, metrics.csv, curves.svg, confusion.csv + confusion.svg and per_class.csv (test set;
// with --test-at-end after the last epoch only), and with --keep-best best.inkw.
// SIGINT/SIGTERM/SIGHUP stop after the current step and save; --resume DIR goes on from there.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "../common/cli.hpp"
#include "../common/progress.hpp"
#include "../common/ranks.hpp"
#include "../common/stop_signals.hpp"
#include "inkwell/check/plan_check.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/core/rng.hpp"
#include "inkwell/data/dataset.hpp"
#include "inkwell/data/image_dataset.hpp"
#include "inkwell/dist/communicator.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/model_file/model_file.hpp"
#include "inkwell/train/fine_tune.hpp"
#include "inkwell/train/optimizer.hpp"
#include "inkwell/train/saved_run.hpp"
#include "inkwell/train/schedule.hpp"
#include "inkwell/train/train.hpp"
#include "metrics_log.hpp"
#include "options.hpp"

namespace fs = std::filesystem;
using namespace inkwell;
using namespace inkwell::train_app;

namespace {

// --data: a named IDX dataset, an IDX directory, an image tree (split or not) or a CSV manifest.
DatasetSplits load_data(const Options& o, PreprocessStyle style) {
  if (std::optional<DatasetSplits> idx = load_idx_data(o.data)) return std::move(*idx);
  const fs::path path(o.data);
  ImageLoadOptions options;
  options.skip_bad = o.skip_bad;
  options.style = style;
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
  s.style = style;
  if (report.skipped) {
    cli::say(stderr, "inkwell-train: skipped %lld bad files (--skip-bad), for example:\n", static_cast<long long>(report.skipped));
    for (const std::string& e : report.errors) cli::say(stderr, "  %s\n", e.c_str());
  }
  return s;
}

// Whether `flag` is set on any rank (a Ctrl-C reaching one rank stops them all at the same point).
bool any_rank(Communicator& comm, bool flag) {
  double n = flag ? 1 : 0;
  comm.sum(std::span<double>(&n, 1));
  return n > 0;
}

// A loss as the console shows it: 4 decimals, or 3 significant digits once it has diverged.
std::string loss_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, std::fabs(v) < 1e4 ? "%.4f" : "%.3e", v);
  return buf;
}

// Where a run stands: the epoch in progress (1-based) and how far into it, and the best epoch so
// far by validation accuracy (--keep-best).
struct RunState {
  int epoch = 1;
  EpochState partial;
  int best_epoch = 0;
  double best_valid_acc = -1;
};

// The checkpoint: weights, optimizer state, and the run (settings and where it stands) in the
// metadata (saved_run.hpp).
ModelFile checkpoint(const Model& model, const Optimizer* opt, const Options& o, int64_t valid, const DatasetSplits& data,
                     const RunState& st) {
  ModelFile f;
  f.architecture = model.architecture();
  f.classes = data.train.classes;
  f.normalization = data.normalization;
  f.tensors = model.state();
  if (opt) f.optimizer = optimizer_state(model.params(), *opt);
  SavedRun run;
  run.data = o.data, run.optimizer = o.optimizer, run.schedule = o.schedule, run.preprocessing = to_string(data.style);
  run.precision = o.precision, run.init_from = o.init_from, run.epochs = o.epochs, run.batch = o.batch, run.lr = o.lr;
  run.weight_decay = o.weight_decay, run.test_fraction = o.test_fraction, run.seed = o.seed, run.valid = valid;
  run.train_images = data.train.size() - valid, run.augment = o.augment, run.skip_bad = o.skip_bad;
  run.keep_best = o.keep_best, run.test_at_end = o.test_at_end, run.freeze = o.freeze, run.ranks = world().size();
  run.epoch = st.epoch, run.partial = st.partial, run.best_epoch = st.best_epoch, run.best_valid_acc = st.best_valid_acc;
  run.optimizer_steps = opt ? opt->steps() : -1;
  f.meta = saved_run_meta(run);
  return f;
}

// A new run must not silently replace an unfinished one in the same --out.
void refuse_unfinished_run(const Options& o, const std::string& model_path) {
  if (o.force || !fs::exists(model_path)) return;
  ModelFile f;
  try {
    f = load_model_file(model_path);
  } catch (const std::exception& e) {
    usage_error(std::string(e.what()) + "\n" + o.out + " holds a model.inkw that is not a finished run: give --force to start over there");
  }
  if (!f.meta.contains("epoch")) return;  // a model, not a run's checkpoint
  SavedRun run;
  try {
    run = read_saved_run(f.meta, model_path);
  } catch (const Error& e) {
    usage_error(std::string(e.what()) + "\n" + o.out + " holds a run that cannot be resumed: give --force to start over there");
  }
  if (run.complete()) return;
  usage_error(o.out + " holds an unfinished run (epoch " + std::to_string(run.epoch) + " of " + std::to_string(run.epochs) +
              "): continue it with --resume " + o.out + ", or give --force to start a new run there");
}

int run(Options o) {
  const std::string model_path = (fs::path(o.out) / "model.inkw").string();
  ModelFile saved;
  SavedRun resumed;  // --resume: the run as saved, checked (saved_run.hpp)
  RunState st;
  int64_t valid_count = -1;
  if (o.resume) {
    saved = load_model_file(model_path);
    resumed = read_saved_run(saved.meta, model_path);
    o.data = resumed.data, o.model = saved.architecture.spec, o.epochs = resumed.epochs, o.batch = resumed.batch, o.lr = resumed.lr;
    o.weight_decay = resumed.weight_decay, o.optimizer = resumed.optimizer, o.schedule = resumed.schedule, o.seed = resumed.seed;
    valid_count = resumed.valid, o.augment = resumed.augment, o.test_fraction = resumed.test_fraction, o.skip_bad = resumed.skip_bad;
    o.keep_best = resumed.keep_best, o.test_at_end = resumed.test_at_end, o.init_from = resumed.init_from, o.freeze = resumed.freeze;
    o.preprocess = resumed.preprocessing, o.precision = resumed.precision;
    st = {resumed.epoch, resumed.partial, resumed.best_epoch, resumed.best_valid_acc};
    if (resumed.complete()) {
      cli::say(stdout, "inkwell-train: %s is complete (%d epochs)\n", o.out.c_str(), o.epochs);
      return 0;
    }
  } else {
    refuse_unfinished_run(o, model_path);
  }
  // More than one process (mpirun, srun): each rank trains on its share of every batch, with its
  // share of the node's cores unless --threads says otherwise; rank 0 alone prints and writes.
  Communicator& comm = world();
  if (!comm.alone()) {
    if (o.batch % comm.size() != 0)
      throw error("--batch ", o.batch, " does not split evenly over ", comm.size(), " ranks (docs/distributed.md)");
    if (o.threads == 0) o.threads = cli::threads_per_rank(comm);
    if (comm.rank() != 0) {
      if (!std::freopen("/dev/null", "w", stdout)) throw error("cannot silence rank ", comm.rank(), "'s stdout");
      o.progress = cli::ProgressMode::never;
    }
  }
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const OptimizerConfig opt_config{parse_optimizer_kind(o.optimizer), o.weight_decay};
  const Schedule schedule = parse_schedule(o.schedule);
  // --init-from: the architecture (unless --model says otherwise) and normalisation of the model
  // fine-tuned from, so its layers see inputs as they were trained on.
  ModelFile init;
  const bool fine_tune = !o.init_from.empty() && !o.resume;
  if (fine_tune) {
    init = load_model_file(o.init_from);
    if (!o.model_given) o.model = init.architecture.spec;
  }
  // How image files become 28x28: as asked, else as the model fine-tuned from was trained, else MNIST's.
  PreprocessStyle style = PreprocessStyle::mnist;
  if (!o.preprocess.empty()) style = parse_preprocess_style(o.preprocess);
  else if (fine_tune) style = preprocess_style(init);
  DatasetSplits data = load_data(o, style);
  // A resumed run normalises as it began (a fine-tuned one: as the model it started from).
  if (fine_tune) data.normalization = init.normalization;
  if (o.resume) data.normalization = saved.normalization;
  // A preset ends in fc10; with other than 10 classes (EMNIST letters: 26), its last layer follows,
  // as does the architecture fine-tuned from.
  const std::string spec = resolve_spec(o.model);
  const bool adapt_outputs = spec != o.model || (fine_tune && !o.model_given);
  const Architecture arch{adapt_outputs ? with_outputs(spec, static_cast<int64_t>(data.train.classes.size())) : spec,
                          {1, 28, 28}};
  if (valid_count < 0) valid_count = o.valid.resolve(data.train.size());
  if (o.resume)  // the data must be what the run was saved with: a resume replays the run
    check_saved_run_fits_data(resumed, model_path, std::max<int64_t>(0, data.train.size() - valid_count));
  if (valid_count >= data.train.size())
    usage_error("--valid " + std::to_string(valid_count) + " leaves no training images of the " +
                std::to_string(data.train.size()) + " (give fewer, or a share: --valid 0.1)");
  if (o.keep_best && valid_count == 0) usage_error("--keep-best needs validation images, and --valid leaves none here");

  // One generator, seeded, makes the split (the first `valid` images of a permutation validate)
  // and then every epoch's shuffle: replaying it rebuilds any epoch's order on --resume.
  Rng rng(o.seed);
  std::vector<uint32_t> perm(data.train.size());
  std::iota(perm.begin(), perm.end(), 0u);
  rng.shuffle(std::span(perm));
  const std::vector<uint32_t> valid_idx(perm.begin(), perm.begin() + valid_count);
  std::vector<uint32_t> train_idx(perm.begin() + valid_count, perm.end());
  std::vector<uint32_t> test_idx(data.test.size());
  std::iota(test_idx.begin(), test_idx.end(), 0u);
  for (int e = 1; e < st.epoch; ++e) rng.shuffle(std::span(train_idx));

  const TrainPrecision precision = parse_train_precision(o.precision);
  // Checked against f32 on this machine, at the step's batch and thread count, before it is used.
  const Bf16Plan bf16 = check::check_bf16_plan(arch, plan_bf16(arch, precision), o.batch / comm.size());
  if (precision == TrainPrecision::bf16)
    for (const std::string& note : bf16.notes) cli::say(stderr, "inkwell-train: %s\n", note.c_str());
  for (const std::string& warning : bf16.warnings) cli::say(stderr, "inkwell-train: warning: %s\n", warning.c_str());
  Model model(arch, o.batch / comm.size(), Mode::train, bf16);
  Model eval(arch, o.eval_batch, Mode::infer);
  Optimizer optimizer(opt_config, model.params().size());
  std::vector<EpochRow> rows;
  if (o.resume) {
    model.load_state(saved.tensors);
    restore_optimizer_state(saved.optimizer, model_path, model.params(), optimizer);
    optimizer.set_steps(resumed.optimizer_steps);
    rows = read_rows((fs::path(o.out) / "metrics.csv").string(), st.epoch - 1);
    cli::say(stdout, "inkwell-train: resuming %s at epoch %d, step %lld\n", o.out.c_str(), st.epoch,
             static_cast<long long>(st.partial.steps_done));
  } else {
    model.init_params(o.seed);
    if (fine_tune) {
      const CopiedTensors copy = copy_matching_tensors(init, model);
      std::string names;
      for (const std::string& n : copy.fresh) names += (names.empty() ? "; initialised anew: " : ", ") + n;
      cli::say(stdout, "inkwell-train: %zu of %zu tensors from %s%s\n", copy.copied, copy.copied + copy.fresh.size(),
               o.init_from.c_str(), names.c_str());
    }
  }
  if (o.freeze > 0) {
    try {
      optimizer.freeze_prefix(frozen_floats(model.params(), o.freeze));
    } catch (const Error& e) {
      usage_error(e.what());
    }
  }
  const int64_t steps_per_epoch = (static_cast<int64_t>(train_idx.size()) + o.batch - 1) / o.batch;
  const LearningRate lr{schedule, o.lr, steps_per_epoch * o.epochs};
  char title[512];
  std::snprintf(title, sizeof title, "%s on %s: %s lr %g %s, wd %g, batch %lld%s", o.model.c_str(), o.data.c_str(),
                o.optimizer.c_str(), o.lr, o.schedule.c_str(), o.weight_decay, static_cast<long long>(o.batch),
                o.augment ? ", augmented" : "");

  fs::create_directories(o.out);
  cli::install_stop_signals();  // before the header: once it is printed, a signal saves
  std::string bf16_layers;
  for (const std::string& layer : bf16.layers) bf16_layers += (bf16_layers.empty() ? "" : " ") + layer;
  cli::say(stdout, "inkwell-train: %s on %s (%lld train, %lld valid, %lld test), %s lr %g wd %g %s%s, batch %lld, %d threads, %s\n",
           arch.spec.c_str(), o.data.c_str(), static_cast<long long>(train_idx.size()),
           static_cast<long long>(valid_idx.size()), static_cast<long long>(test_idx.size()), o.optimizer.c_str(),
           o.lr, o.weight_decay, o.schedule.c_str(), o.augment ? ", augmented" : "", static_cast<long long>(o.batch),
           omp_get_max_threads(), bf16_layers.empty() ? "f32" : ("bf16: " + bf16_layers).c_str());
  std::fflush(stdout);
  if (o.resume && resumed.ranks != comm.size())
    cli::say(stdout, "inkwell-train: the run was trained by %d ranks, it goes on with %d: the same global batches, so the "
             "same steps up to float rounding (batch norm's batch statistics are per rank)\n",
             resumed.ranks, comm.size());
  // Overlapping the gradient sums with backward pays across a network; within a node the one sum
  // after backward costs next to nothing and is as fast or faster (docs/distributed.md).
  const bool overlap = o.allreduce == "overlap" || (o.allreduce == "auto" && comm.local_size() < comm.size());
  if (!comm.alone()) {
    cli::say(stdout, "inkwell-train: %s; each rank %d threads, batch %lld = %d x %lld, gradients summed %s\n",
             comm.describe().c_str(), omp_get_max_threads(), static_cast<long long>(o.batch), comm.size(),
             static_cast<long long>(o.batch / comm.size()), overlap ? "during backward" : "after backward");
    // Every rank starts from rank 0's weights (they agree already: same seed, or the same file).
    comm.broadcast(std::span<float>(model.params().values(), model.params().size()));
  }
  const bool writer = comm.rank() == 0;
  auto save = [&] {
    if (writer) save_model_file(model_path, checkpoint(model, &optimizer, o, valid_count, data, st));
  };

  cli::StatusLine status(o.progress);
  // --checkpoint-every: the step loop pauses, the run is saved exactly as a Ctrl-C saves it, and
  // the same epoch goes on from there (train_epoch continues from st.partial.steps_done).
  auto last_checkpoint = std::chrono::steady_clock::now();
  auto checkpoint_due = [&](int64_t step) {
    if (o.checkpoint_steps > 0 && step % o.checkpoint_steps == 0) return true;
    return o.checkpoint_minutes > 0 &&
           std::chrono::steady_clock::now() - last_checkpoint >= std::chrono::duration<double, std::ratio<60>>(o.checkpoint_minutes);
  };
  bool warned_divergence = false;
  while (st.epoch <= o.epochs) {
    rng.shuffle(std::span(train_idx));
    const auto epoch_start = std::chrono::steady_clock::now();
    const int64_t first_step = st.partial.steps_done;
    std::atomic<bool> pause{false};  // Ctrl-C, or a checkpoint due
    auto progress = [&](int64_t step, int64_t steps, double loss) {
      if (cli::stop_requested || (step < steps && checkpoint_due(step))) pause = true;
      if (!status.due() || step == first_step) return;
      const double per_step = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count() /
                              static_cast<double>(step - first_step);
      const int64_t run_left = steps - step + static_cast<int64_t>(o.epochs - st.epoch) * steps_per_epoch;
      char line[256];
      std::snprintf(line, sizeof line, "epoch %d/%d  step %lld/%lld  loss %s  %s img/s  ETA epoch %s, run %s", st.epoch,
                    o.epochs, static_cast<long long>(step), static_cast<long long>(steps), loss_text(loss).c_str(),
                    cli::thousands(std::llround(static_cast<double>(o.batch) / per_step)).c_str(),
                    cli::human_duration(per_step * static_cast<double>(steps - step)).c_str(),
                    cli::human_duration(per_step * static_cast<double>(run_left)).c_str());
      status.show(line);
    };
    bool complete = false;
    while (!complete) {
      pause = false;
      complete = train_epoch(model, optimizer, data.train, train_idx, data.normalization, lr, st.partial,
                             {o.augment, o.seed, o.prefetch, &comm, overlap}, progress, &pause);
      if (complete) break;
      save();
      last_checkpoint = std::chrono::steady_clock::now();
      if (any_rank(comm, cli::stop_requested)) {
        status.clear();
        cli::say(stdout, "inkwell-train: interrupted at epoch %d, step %lld of %lld; saved %s\n"
                 "continue with: inkwell-train --resume %s\n",
                 st.epoch, static_cast<long long>(st.partial.steps_done), static_cast<long long>(steps_per_epoch),
                 model_path.c_str(), o.out.c_str());
        return cli::kInterrupted;
      }
    }
    status.clear();
    const Metrics train = st.partial.metrics();
    eval.load_state(model.state());
    const bool last_epoch = st.epoch == o.epochs;
    const Metrics valid =
        valid_idx.empty() ? Metrics{} : evaluate(eval, data.train, valid_idx, data.normalization, nullptr, kAutoPrefetch, &comm);
    std::vector<int64_t> confusion;
    Metrics test;
    if (!o.test_at_end || last_epoch)
      test = evaluate(eval, data.test, test_idx, data.normalization, &confusion, kAutoPrefetch, &comm);
    const double epoch_lr = learning_rate(schedule, o.lr, st.epoch * steps_per_epoch - 1, lr.total_steps);
    rows.push_back(make_row(st.epoch, train, valid_idx.empty() ? nullptr : &valid, confusion.empty() ? nullptr : &test, epoch_lr));
    std::string line = "epoch " + std::to_string(st.epoch) + "/" + std::to_string(o.epochs) + "  train loss " +
                       loss_text(train.loss) + " acc " + std::to_string(train.accuracy).substr(0, 6);
    if (!valid_idx.empty())
      line += " | valid loss " + loss_text(valid.loss) + " acc " + std::to_string(valid.accuracy).substr(0, 6);
    char tail[96];
    std::snprintf(tail, sizeof tail, " | %.0f img/s  %.2f s", train.images / train.seconds, train.seconds + valid.seconds);
    cli::say(stdout, "%s%s\n", line.c_str(), tail);
    if (!warned_divergence && !(train.loss < 1e3)) {
      warned_divergence = true;
      cli::say(stderr, "inkwell-train: the training loss is %s: the run has diverged; a lower --lr (now %g) should help\n",
               loss_text(train.loss).c_str(), o.lr);
    }
    std::fflush(stdout);
    const bool best = !valid_idx.empty() && valid.accuracy > st.best_valid_acc;
    if (best) st.best_epoch = st.epoch, st.best_valid_acc = valid.accuracy;
    ++st.epoch;  // saved as the start of the next epoch
    st.partial = {};
    save();
    if (writer && o.keep_best && best)
      save_model_file((fs::path(o.out) / "best.inkw").string(), checkpoint(model, nullptr, o, valid_count, data, st));
    if (writer) write_reports(o.out, rows, title, data.test.classes, confusion);
    if (any_rank(comm, cli::stop_requested) && st.epoch <= o.epochs) {
      cli::say(stdout, "inkwell-train: interrupted after epoch %d; saved %s\ncontinue with: inkwell-train --resume %s\n",
               st.epoch - 1, model_path.c_str(), o.out.c_str());
      return cli::kInterrupted;
    }
  }
  const CurvePoint& last = rows.back().point;
  cli::say(stdout, "test loss %.4f  test accuracy %.4f (%.2f%%)\n", last.test_loss, last.test_acc, 100 * last.test_acc);
  if (o.keep_best)
    cli::say(stdout, "best validation accuracy %.4f at epoch %d: %s\n", st.best_valid_acc, st.best_epoch,
             (fs::path(o.out) / "best.inkw").c_str());
  cli::say(stdout, "wrote %s, metrics.csv, curves.svg, confusion.csv/.svg and per_class.csv in %s\n", model_path.c_str(),
           o.out.c_str());
  return cli::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  return cli::end_ranks(cli::run_or_report("inkwell-train", [&] { return run(options); }));
}
