// inkwell-train: trains a CNN on MNIST, Fashion-MNIST, EMNIST or an image tree with a
// train/valid/test split, prints one line per epoch, and after every epoch writes to DIR:
// model.inkw, metrics.csv, curves.svg, confusion.csv + confusion.svg and per_class.csv (test set;
// with --test-at-end after the last epoch only), and with --keep-best best.inkw.
// SIGINT/SIGTERM/SIGHUP stop after the current step and save; --resume DIR goes on from there.
// The run itself is the library's TrainingRun (training_run.hpp); this is its console.
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "../common/cli.hpp"
#include "../common/progress.hpp"
#include "../common/ranks.hpp"
#include "../common/stop_signals.hpp"
#include "inkwell/train/training_run.hpp"
#include "options.hpp"

using namespace inkwell;
using namespace inkwell::train_app;

namespace {

// A loss as the console shows it: 4 decimals, or 3 significant digits once it has diverged.
std::string loss_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, std::fabs(v) < 1e4 ? "%.4f" : "%.3e", v);
  return buf;
}

// The run's first line: what trains on what, split how, with which recipe, threads and precision.
void print_header(const TrainingRun& t) {
  const RunSettings& s = t.settings();
  std::string bf16_layers;
  for (const std::string& layer : t.bf16_plan().layers) bf16_layers += (bf16_layers.empty() ? "" : " ") + layer;
  cli::say(stdout, "inkwell-train: %s on %s (%lld train, %lld valid, %lld test), %s lr %g wd %g %s%s, batch %lld, %d threads, %s\n",
           t.architecture().spec.c_str(), s.data.c_str(), static_cast<long long>(t.train_images()),
           static_cast<long long>(t.valid_images()), static_cast<long long>(t.test_images()), s.optimizer.c_str(), s.lr,
           s.weight_decay, s.schedule.c_str(), s.augment ? ", augmented" : "", static_cast<long long>(s.batch),
           omp_get_max_threads(), bf16_layers.empty() ? "f32" : ("bf16: " + bf16_layers).c_str());
}

// An epoch's line: its training figures, validation's, and the rate.
void print_epoch(const EpochReport& e) {
  std::string line = "epoch " + std::to_string(e.epoch) + "/" + std::to_string(e.epochs) + "  train loss " +
                     loss_text(e.train.loss) + " acc " + std::to_string(e.train.accuracy).substr(0, 6);
  if (e.has_valid) line += " | valid loss " + loss_text(e.valid.loss) + " acc " + std::to_string(e.valid.accuracy).substr(0, 6);
  char tail[96];
  std::snprintf(tail, sizeof tail, " | %.0f img/s  %.2f s", e.train.images / e.train.seconds, e.train.seconds + e.valid.seconds);
  cli::say(stdout, "%s%s\n", line.c_str(), tail);
}

int run(Options o) {
  // More than one process (mpirun, srun): each rank takes its share of the node's cores unless
  // --threads says otherwise; rank 0 alone prints and writes.
  Communicator& comm = world();
  if (!comm.alone()) {
    if (o.controls.threads == 0) o.controls.threads = cli::threads_per_rank(comm);
    if (comm.rank() != 0) {
      if (!std::freopen("/dev/null", "w", stdout)) throw error("cannot silence rank ", comm.rank(), "'s stdout");
      o.progress = cli::ProgressMode::never;
    }
  }
  std::unique_ptr<TrainingRun> t;
  try {
    t = o.resume ? TrainingRun::resume(o.controls, comm) : TrainingRun::start(o.run, o.controls, comm);
  } catch (const SettingsError& e) {
    usage_error(e.what());
  }
  const RunSettings& s = t->settings();
  const std::string& out = o.controls.out;
  if (t->complete()) {
    cli::say(stdout, "inkwell-train: %s is complete (%d epochs)\n", out.c_str(), s.epochs);
    return cli::kOk;
  }
  for (const std::string& w : t->warnings()) cli::say(stderr, "inkwell-train: %s\n", w.c_str());
  for (const std::string& n : t->notices()) cli::say(stdout, "inkwell-train: %s\n", n.c_str());
  if (o.resume)
    cli::say(stdout, "inkwell-train: resuming %s at epoch %d, step %lld\n", out.c_str(), t->state().epoch,
             static_cast<long long>(t->state().partial.steps_done));
  cli::install_stop_signals();  // before the header: once it is printed, a signal saves
  print_header(*t);
  if (!comm.alone())
    cli::say(stdout, "inkwell-train: %s; each rank %d threads, batch %lld = %d x %lld, gradients summed %s\n",
             comm.describe().c_str(), omp_get_max_threads(), static_cast<long long>(s.batch), comm.size(),
             static_cast<long long>(s.batch / comm.size()), t->overlapped_allreduce() ? "during backward" : "after backward");
  std::fflush(stdout);

  cli::StatusLine status(o.progress);
  bool warned_divergence = false;
  RunCallbacks callbacks;
  callbacks.stop_requested = [] { return cli::stop_requested.load(); };
  callbacks.on_step = [&](const StepReport& p) {
    if (!status.due() || p.images_per_second == 0) return;
    char line[256];
    std::snprintf(line, sizeof line, "epoch %d/%d  step %lld/%lld  loss %s  %s img/s  ETA epoch %s, run %s", p.epoch, p.epochs,
                  static_cast<long long>(p.step), static_cast<long long>(p.steps), loss_text(p.loss).c_str(),
                  cli::thousands(std::llround(p.images_per_second)).c_str(), cli::human_duration(p.seconds_left_epoch).c_str(),
                  cli::human_duration(p.seconds_left_run).c_str());
    status.show(line);
  };
  callbacks.on_epoch = [&](const EpochReport& e) {
    status.clear();
    print_epoch(e);
    if (!warned_divergence && !(e.train.loss < 1e3)) {
      warned_divergence = true;
      cli::say(stderr, "inkwell-train: the training loss is %s: the run has diverged; a lower --lr (now %g) should help\n",
               loss_text(e.train.loss).c_str(), s.lr);
    }
    std::fflush(stdout);
    return true;
  };
  if (t->run(callbacks) == RunEnd::stopped) {
    status.clear();
    const SavedRun& st = t->state();
    if (st.partial.steps_done > 0)
      cli::say(stdout, "inkwell-train: interrupted at epoch %d, step %lld of %lld; saved %s\n", st.epoch,
               static_cast<long long>(st.partial.steps_done), static_cast<long long>(t->steps_per_epoch()), t->model_path().c_str());
    else
      cli::say(stdout, "inkwell-train: interrupted after epoch %d; saved %s\n", st.epoch - 1, t->model_path().c_str());
    cli::say(stdout, "continue with: inkwell-train --resume %s\n", out.c_str());
    return cli::kInterrupted;
  }
  const CurvePoint& last = t->history().back().point;
  cli::say(stdout, "test loss %.4f  test accuracy %.4f (%.2f%%)\n", last.test_loss, last.test_acc, 100 * last.test_acc);
  if (s.keep_best)
    cli::say(stdout, "best validation accuracy %.4f at epoch %d: %s\n", t->state().best_valid_acc, t->state().best_epoch,
             t->best_path().c_str());
  cli::say(stdout, "wrote %s, metrics.csv, curves.svg, confusion.csv/.svg and per_class.csv in %s\n", t->model_path().c_str(),
           out.c_str());
  return cli::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  return cli::end_ranks(cli::run_or_report("inkwell-train", [&] { return run(options); }));
}
