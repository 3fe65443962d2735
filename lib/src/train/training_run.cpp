#include "inkwell/train/training_run.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <numeric>

#include "inkwell/check/plan_cache.hpp"
#include "inkwell/check/plan_check.hpp"
#include "inkwell/core/cpu_budget.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/nn/spec.hpp"
#include "inkwell/onnx/onnx_model.hpp"
#include "inkwell/train/fine_tune.hpp"
#include "inkwell/train/schedule.hpp"
#include "inkwell/train/step_workers.hpp"

namespace fs = std::filesystem;

namespace inkwell {

int64_t ValidSize::resolve(int64_t train_images) const {
  if (count >= 0) return count;
  return std::min<int64_t>(cap, static_cast<int64_t>(fraction * static_cast<double>(train_images)));
}

namespace {

std::string model_path_in(const std::string& out) { return (fs::path(out) / "model.inkw").string(); }

// A new run must not silently replace an unfinished one in the same directory.
void refuse_unfinished_run(const RunControls& c) {
  const std::string path = model_path_in(c.out);
  if (c.force || !fs::exists(path)) return;
  ModelFile f;
  try {
    f = load_model_file(path);
  } catch (const std::exception& e) {
    throw SettingsError(std::string(e.what()) + "\n" + c.out +
                        " holds a model.inkw that is not a finished run: give --force to start over there");
  }
  if (!f.meta.contains("epoch")) return;  // a model, not a run's checkpoint
  SavedRun run;
  try {
    run = read_saved_run(f.meta, path);
  } catch (const Error& e) {
    throw SettingsError(std::string(e.what()) + "\n" + c.out + " holds a run that cannot be resumed: give --force to start over there");
  }
  if (run.complete()) return;
  throw SettingsError(c.out + " holds an unfinished run (epoch " + std::to_string(run.epoch) + " of " +
                      std::to_string(run.epochs) + "): continue it with --resume " + c.out +
                      ", or give --force to start a new run there");
}

}  // namespace

std::unique_ptr<TrainingRun> TrainingRun::start(RunSettings settings, RunControls controls, Communicator& comm) {
  refuse_unfinished_run(controls);
  return std::unique_ptr<TrainingRun>(new TrainingRun(std::move(settings), std::move(controls), comm, nullptr));
}

std::unique_ptr<TrainingRun> TrainingRun::resume(RunControls controls, Communicator& comm) {
  const std::string path = model_path_in(controls.out);
  const ModelFile saved = load_model_file(path);
  const SavedRun r = read_saved_run(saved.meta, path);
  RunSettings s;
  s.data = r.data, s.model = saved.architecture.spec, s.init_from = r.init_from, s.freeze = r.freeze;
  s.preprocessing = r.preprocessing, s.optimizer = r.optimizer, s.schedule = r.schedule, s.precision = r.precision;
  s.epochs = r.epochs, s.batch = r.batch, s.lr = r.lr, s.weight_decay = r.weight_decay, s.test_fraction = r.test_fraction;
  s.seed = r.seed, s.valid = {0, r.valid, 0}, s.augment = r.augment, s.skip_bad = r.skip_bad, s.keep_best = r.keep_best;
  s.test_at_end = r.test_at_end;
  return std::unique_ptr<TrainingRun>(new TrainingRun(std::move(s), std::move(controls), comm, &saved));
}

TrainingRun::TrainingRun(RunSettings settings, RunControls controls, Communicator& comm, const ModelFile* saved)
    : settings_(std::move(settings)), controls_(std::move(controls)), comm_(comm) {
  const RunSettings& s = settings_;
  const std::string path = model_path();
  if (saved) {
    state_ = read_saved_run(saved->meta, path);
    if (state_.complete()) return;  // nothing to set up: run() returns at once
  }
  // The ranges inkwell-train's options take, for callers that are not the CLI (Python).
  if (s.epochs < 1 || s.epochs > 100000) throw SettingsError("epochs takes 1 to 100000, got " + std::to_string(s.epochs));
  if (s.batch < 1 || s.batch > 65536) throw SettingsError("batch takes 1 to 65536, got " + std::to_string(s.batch));
  if (!(s.lr > 0 && s.lr <= 1e6)) throw SettingsError("lr takes a rate above 0, got " + std::to_string(s.lr));
  if (!(s.weight_decay >= 0 && s.weight_decay <= 1)) throw SettingsError("weight decay takes 0 to 1, got " + std::to_string(s.weight_decay));
  if (!(s.test_fraction > 0 && s.test_fraction < 1)) throw SettingsError("test fraction takes a share between 0 and 1");
  if (s.freeze < 0 || s.freeze > 255) throw SettingsError("freeze takes 0 to 255 layers");
  if (s.freeze > 0 && s.init_from.empty()) throw SettingsError("--freeze keeps pretrained layers fixed: it needs --init-from");
  // More than one process (mpirun, srun): each rank trains on its share of every batch.
  if (!comm_.alone() && s.batch % comm_.size() != 0)
    throw error("--batch ", s.batch, " does not split evenly over ", comm_.size(), " ranks (docs/distributed.md)");
  omp_set_num_threads(controls_.threads > 0 ? controls_.threads : default_threads());
  OptimizerConfig opt_config;
  Schedule schedule;
  try {
    opt_config = {parse_optimizer_kind(s.optimizer), s.weight_decay};
    schedule = parse_schedule(s.schedule);
    parse_train_precision(s.precision);
    check::parse_plan_source(controls_.plan);
    if (!s.preprocessing.empty()) parse_preprocess_style(s.preprocessing);
    if (!s.model.empty()) resolve_spec(s.model);
  } catch (const Error& e) {
    throw SettingsError(e.what());
  }

  // init_from: the architecture (unless `model` says otherwise) and normalisation of the model
  // fine-tuned from, so its layers see inputs as they were trained on.
  ModelFile init;
  const bool fine_tune = !s.init_from.empty() && !saved;
  if (fine_tune) init = load_model(s.init_from);  // .inkw or .onnx
  const std::string model = !s.model.empty() ? s.model : fine_tune ? init.architecture.spec : "seed";
  // How image files become 28x28: as asked, else as the model fine-tuned from was trained, else MNIST's.
  DataSource source{s.data, PreprocessStyle::mnist, s.skip_bad, s.test_fraction, s.seed};
  if (!s.preprocessing.empty()) source.style = parse_preprocess_style(s.preprocessing);
  else if (fine_tune) source.style = preprocess_style(init);
  ImageLoadReport report;
  data_ = load_data_source(source, &report);
  if (report.skipped) {
    std::string w = "skipped " + std::to_string(report.skipped) + " bad files (--skip-bad), for example:";
    for (const std::string& e : report.errors) w += "\n  " + e;
    warnings_.push_back(w);
  }
  // A resumed run normalises as it began (a fine-tuned one: as the model it started from).
  if (fine_tune) data_.normalization = init.normalization;
  if (saved) data_.normalization = saved->normalization;
  // A preset ends in fc10; with other than 10 classes (EMNIST letters: 26), its last layer follows,
  // as does the architecture fine-tuned from.
  const std::string spec = resolve_spec(model);
  const bool adapt_outputs = spec != model || (fine_tune && s.model.empty());
  arch_ = {adapt_outputs ? with_outputs(spec, static_cast<int64_t>(data_.train.classes.size())) : spec, {1, 28, 28}};

  const int64_t valid_count = saved ? state_.valid : s.valid.resolve(data_.train.size());
  if (saved)  // the data must be what the run was saved with: a resume replays the run
    check_saved_run_fits_data(state_, path, std::max<int64_t>(0, data_.train.size() - valid_count));
  if (valid_count >= data_.train.size())
    throw SettingsError("--valid " + std::to_string(valid_count) + " leaves no training images of the " +
                        std::to_string(data_.train.size()) + " (give fewer, or a share: --valid 0.1)");
  if (s.keep_best && valid_count == 0) throw SettingsError("--keep-best needs validation images, and --valid leaves none here");

  // One generator, seeded, makes the split (the first `valid` images of a permutation validate)
  // and then every epoch's shuffle: replaying it rebuilds any epoch's order on resume.
  rng_ = Rng(s.seed);
  std::vector<uint32_t> perm(data_.train.size());
  std::iota(perm.begin(), perm.end(), 0u);
  rng_.shuffle(std::span(perm));
  valid_idx_.assign(perm.begin(), perm.begin() + valid_count);
  train_idx_.assign(perm.begin() + valid_count, perm.end());
  test_idx_.resize(data_.test.size());
  std::iota(test_idx_.begin(), test_idx_.end(), 0u);
  for (int e = 1; e < state_.epoch; ++e) rng_.shuffle(std::span(train_idx_));

  const TrainPrecision precision = parse_train_precision(s.precision);
  // One process trains on one-thread micro-batch workers (step_workers.hpp), ranks and batch norm
  // on a team. auto's plan is measured for the model the steps run (ranks take the rule: one
  // rank's timing would race the others' for the cores), then checked against f32 before use.
  check::PlanCache cache;
  const int threads = omp_get_max_threads();
  const bool micro = comm_.alone() && trains_on_micro_batches(arch_);
  const int64_t model_batch = micro ? std::min(s.batch, micro_batch_size(arch_, s.batch)) : s.batch / comm_.size();
  if (micro) omp_set_num_threads(1);
  const check::PlanSource plan_source = comm_.alone() ? check::parse_plan_source(controls_.plan) : check::PlanSource::rule;
  bf16_ = check::check_bf16_plan(arch_, check::measured_bf16_plan(arch_, precision, model_batch, plan_source, cache, &plan_report_),
                                 model_batch, cache);
  if (!plan_report_.timings.empty()) notices_.push_back("precision plan " + plan_report_.summary());
  if (precision == TrainPrecision::bf16) warnings_.insert(warnings_.end(), bf16_.notes.begin(), bf16_.notes.end());
  for (const std::string& w : bf16_.warnings) warnings_.push_back("warning: " + w);
  model_ = std::make_unique<Model>(arch_, model_batch, Mode::train, bf16_);
  omp_set_num_threads(threads);
  if (micro) workers_ = std::make_unique<StepWorkers>(*model_, bf16_, threads, s.batch);
  eval_ = std::make_unique<Model>(arch_, controls_.eval_batch, Mode::infer);
  optimizer_ = std::make_unique<Optimizer>(opt_config, model_->params().size());
  if (saved) {
    model_->load_state(saved->tensors);
    restore_optimizer_state(saved->optimizer, path, model_->params(), *optimizer_);
    optimizer_->set_steps(state_.optimizer_steps);
    history_ = read_rows((fs::path(controls_.out) / "metrics.csv").string(), state_.epoch - 1);
    if (state_.ranks != comm_.size())
      notices_.push_back("the run was trained by " + std::to_string(state_.ranks) + " ranks, it goes on with " +
                         std::to_string(comm_.size()) + ": the same global batches, so the same steps up to float "
                         "rounding (batch norm's batch statistics are per rank)");
  } else {
    model_->init_params(s.seed);
    if (fine_tune) {
      const CopiedTensors copy = copy_matching_tensors(init, *model_);
      std::string names;
      for (const std::string& n : copy.fresh) names += (names.empty() ? "; initialised anew: " : ", ") + n;
      notices_.push_back(std::to_string(copy.copied) + " of " + std::to_string(copy.copied + copy.fresh.size()) +
                         " tensors from " + s.init_from + names);
    }
  }
  if (s.freeze > 0) {
    try {
      optimizer_->freeze_prefix(frozen_floats(model_->params(), s.freeze));
    } catch (const Error& e) {
      throw SettingsError(e.what());
    }
  }
  steps_per_epoch_ = (train_images() + s.batch - 1) / s.batch;
  lr_ = {schedule, s.lr, steps_per_epoch_ * s.epochs};
  char title[512];
  std::snprintf(title, sizeof title, "%s on %s: %s lr %g %s, wd %g, batch %lld%s", model.c_str(), s.data.c_str(),
                s.optimizer.c_str(), s.lr, s.schedule.c_str(), s.weight_decay, static_cast<long long>(s.batch),
                s.augment ? ", augmented" : "");
  title_ = title;

  // What the checkpoints record: the recipe as resolved, and from here on where the run stands.
  SavedRun& r = state_;
  r.data = s.data, r.optimizer = s.optimizer, r.schedule = s.schedule, r.preprocessing = to_string(data_.style);
  r.precision = s.precision, r.init_from = s.init_from, r.epochs = s.epochs, r.batch = s.batch, r.lr = s.lr;
  r.weight_decay = s.weight_decay, r.test_fraction = s.test_fraction, r.seed = s.seed, r.valid = valid_count;
  r.train_images = train_images(), r.augment = s.augment, r.skip_bad = s.skip_bad, r.keep_best = s.keep_best;
  r.test_at_end = s.test_at_end, r.freeze = s.freeze, r.ranks = comm_.size();
  fs::create_directories(controls_.out);

  // Overlapping the gradient sums with backward pays across a network; within a node the one sum
  // after backward costs next to nothing and is as fast or faster (docs/distributed.md).
  overlap_ = controls_.allreduce == "overlap" || (controls_.allreduce == "auto" && comm_.local_size() < comm_.size());
  // Every rank starts from rank 0's weights (they agree already: same seed, or the same file).
  if (!comm_.alone()) comm_.broadcast(std::span<float>(model_->params().values(), model_->params().size()));
}

std::string TrainingRun::model_path() const { return model_path_in(controls_.out); }
std::string TrainingRun::best_path() const { return (fs::path(controls_.out) / "best.inkw").string(); }

// The checkpoint: weights, optimizer state (not in best.inkw), and the run in the metadata.
ModelFile TrainingRun::checkpoint(bool with_optimizer) const {
  ModelFile f;
  f.architecture = model_->architecture();
  f.classes = data_.train.classes;
  f.normalization = data_.normalization;
  f.tensors = model_->state();
  SavedRun r = state_;
  r.optimizer_steps = -1;
  if (with_optimizer) {
    f.optimizer = optimizer_state(model_->params(), *optimizer_);
    r.optimizer_steps = optimizer_->steps();
  }
  f.meta = saved_run_meta(r);
  return f;
}

void TrainingRun::save(bool also_best) {
  if (comm_.rank() != 0) return;  // rank 0 alone writes
  save_model_file(model_path(), checkpoint(true));
  if (also_best) save_model_file(best_path(), checkpoint(false));
}

// Whether `flag` is set on any rank (a Ctrl-C reaching one rank stops them all at the same point).
bool TrainingRun::any_rank(bool flag) {
  double n = flag ? 1 : 0;
  comm_.sum(std::span<double>(&n, 1));
  return n > 0;
}

RunEnd TrainingRun::run(const RunCallbacks& cb) {
  using Clock = std::chrono::steady_clock;
  const RunSettings& s = settings_;
  const Schedule schedule = lr_.schedule;
  auto stop_requested = [&] { return cb.stop_requested && cb.stop_requested(); };
  // checkpoint_every: the step loop pauses, the run is saved exactly as a stop saves it, and the
  // same epoch goes on from there (train_epoch continues from partial.steps_done).
  auto last_checkpoint = Clock::now();
  auto checkpoint_due = [&](int64_t step) {
    if (controls_.checkpoint_steps > 0 && step % controls_.checkpoint_steps == 0) return true;
    return controls_.checkpoint_minutes > 0 &&
           Clock::now() - last_checkpoint >= std::chrono::duration<double, std::ratio<60>>(controls_.checkpoint_minutes);
  };
  while (!state_.complete()) {
    rng_.shuffle(std::span(train_idx_));
    const auto epoch_start = Clock::now();
    const int64_t first_step = state_.partial.steps_done;
    std::atomic<bool> pause{false};  // a stop, or a checkpoint due
    auto progress = [&](int64_t step, int64_t steps, double loss) {
      if (cb.on_step) {
        const double per_step = step == first_step ? 0
                                : std::chrono::duration<double>(Clock::now() - epoch_start).count() /
                                      static_cast<double>(step - first_step);
        const int64_t run_left = steps - step + static_cast<int64_t>(s.epochs - state_.epoch) * steps_per_epoch_;
        cb.on_step({state_.epoch, s.epochs, step, steps, loss, per_step > 0 ? static_cast<double>(s.batch) / per_step : 0,
                    per_step * static_cast<double>(steps - step), per_step * static_cast<double>(run_left)});
      }
      if (stop_requested() || (step < steps && checkpoint_due(step))) pause = true;
    };
    bool epoch_done = false;
    while (!epoch_done) {
      pause = false;
      epoch_done = train_epoch(*model_, *optimizer_, data_.train, train_idx_, data_.normalization, lr_, state_.partial,
                               {s.augment, s.seed, controls_.prefetch, &comm_, overlap_, workers_.get()}, progress, &pause);
      if (epoch_done) break;
      save(false);
      last_checkpoint = Clock::now();
      if (any_rank(stop_requested())) return RunEnd::stopped;
    }
    EpochReport e{state_.epoch, s.epochs, state_.partial.metrics(), {}, {}, !valid_idx_.empty(), false, 0, false};
    eval_->load_state(model_->state());
    if (e.has_valid) e.valid = evaluate(*eval_, data_.train, valid_idx_, data_.normalization, nullptr, kAutoPrefetch, &comm_);
    std::vector<int64_t> confusion;
    if (!s.test_at_end || state_.epoch == s.epochs) {
      e.test = evaluate(*eval_, data_.test, test_idx_, data_.normalization, &confusion, kAutoPrefetch, &comm_);
      e.has_test = true;
    }
    e.lr = learning_rate(schedule, s.lr, state_.epoch * steps_per_epoch_ - 1, lr_.total_steps);
    history_.push_back(make_row(e.epoch, e.train, e.has_valid ? &e.valid : nullptr, e.has_test ? &e.test : nullptr, e.lr));
    e.best = e.has_valid && e.valid.accuracy > state_.best_valid_acc;
    if (e.best) state_.best_epoch = state_.epoch, state_.best_valid_acc = e.valid.accuracy;
    ++state_.epoch;  // saved as the start of the next epoch
    state_.partial = {};
    save(s.keep_best && e.best);
    if (comm_.rank() == 0) write_reports(controls_.out, history_, title_, data_.test.classes, confusion);
    const bool go_on = !cb.on_epoch || cb.on_epoch(e);
    if (any_rank(!go_on || stop_requested()) && !state_.complete()) return RunEnd::stopped;
  }
  return RunEnd::complete;
}

}  // namespace inkwell
