// inkwell-classify: classifies image files (directories walked recursively) with an inkwell model
// and writes one CSV or JSONL row per file, in sorted traversal order, bad files included.
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../common/cli.hpp"
#include "../common/model_source.hpp"
#include "../common/progress.hpp"
#include "../common/ranks.hpp"
#include "../common/stop_signals.hpp"
#include "file_counter.hpp"
#include "inkwell/classify/classify.hpp"
#include "inkwell/classify/output_rows.hpp"
#include "inkwell/classify/sharded_output.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/dist/communicator.hpp"
#include "inkwell/core/read_file.hpp"
#include "inkwell/data/walk.hpp"
#include "inkwell/model_file/model_file.hpp"
#include "label_report.hpp"
#include "output_file.hpp"

namespace fs = std::filesystem;
using namespace inkwell;
using namespace inkwell::classify_app;

namespace {

struct Options {
  std::vector<std::string> paths;
  std::string model, out, format = "csv", ext = ".png,.jpg,.jpeg", precision = "auto", plan = "auto";
  int top_k = 1, threads = 0, executors = 0;
  int64_t batch = 64, max_pixels = kDefaultMaxPixels;  // a model runs at most a batch at once: see --batch
  bool labels_from_dirs = false, resume = false, null_separated = false;
  cli::ModelSource model_source;  // --normalize, --classes: for an ONNX model
  cli::ProgressMode progress = cli::ProgressMode::automatic;
};

const char* kFooter = R"(
PATH - reads paths from stdin, one a line (CRLF too), or NUL-separated with -0 (find -print0).
exit: 0 all classified, 1 error (named), 2 usage error, 3 some files failed or none found,
130 interrupted (--resume --out FILE continues)
)";

std::vector<std::string> split_extensions(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(',', start), list.size());
    std::string e = list.substr(start, end - start);
    if (!e.empty()) out.push_back(e.front() == '.' ? e : "." + e);
    start = end + 1;
  }
  return out;
}

Options parse(int argc, char** argv, std::unique_ptr<CLI::App>& app_out) {
  Options o;
  app_out = std::make_unique<CLI::App>(
      "Classifies image files (PNG, JPEG) with an inkwell model: one CSV or JSONL row per file, in sorted\n"
      "traversal order, unreadable files included as error rows.",
      "inkwell-classify");
  CLI::App& app = *app_out;
  cli::configure(app, kFooter);
  app.add_option("PATH", o.paths, "a directory (walked recursively), a file, or - (paths on stdin)")->type_name("")->required();
  app.add_option("--model", o.model, "model file, .inkw or .onnx (default: $INKWELL_MODEL, else the model shipped in models/)")->type_name("FILE");
  cli::add_model_source_options(app, o.model_source);
  app.add_option("--out", o.out, "write rows here as they come (default: stdout)")->type_name("FILE");
  app.add_option("--format", o.format, "csv: path,label,confidence,status[,label_2,confidence_2,...]; jsonl")
      ->type_name("FORMAT")->check(cli::one_of({"csv", "jsonl"}))->capture_default_str();
  app.add_option("--top-k", o.top_k, "also give the next K-1 labels and their probabilities")->type_name("K")
      ->check(cli::whole(1, 1000))->capture_default_str();
  app.add_option("--threads", o.threads, "threads; 0: the CPUs this process may use (affinity, cgroup quota)")->type_name("N")->check(cli::whole(0, 4096))->capture_default_str();
  app.add_option("--batch", o.batch, "files a batch; a model runs up to 256 of them at once, in runs of the size measured fastest here (docs/plans.md)")->type_name("N")->check(cli::whole(1, kMaxClassifyBatch))->capture_default_str();
  app.add_option("--executors", o.executors, "inference models run at once, sharing --threads; 0: one per thread")
      ->type_name("N")->check(cli::whole(0, 4096))->capture_default_str();
  app.add_option("--precision", o.precision,
                 "auto: int8 for the layers measured faster in int8 here, if the model is quantised (inkwell-quantize)")
      ->type_name("auto|f32|int8")->check(cli::one_of({"auto", "f32", "int8"}))->capture_default_str();
  cli::add_plan_option(app, o.plan);
  app.add_option("--ext", o.ext, "extensions kept inside directories, comma-separated (\"\" keeps all)")
      ->type_name("LIST")->capture_default_str();
  app.add_flag("--labels-from-dirs", o.labels_from_dirs, "the parent folder is the true label: print accuracy and a confusion matrix");
  app.add_flag("--resume", o.resume, "keep the rows already in --out FILE and classify only the rest");
  app.add_option("--max-pixels", o.max_pixels, "refuse larger images (decompression bombs)")
      ->type_name("N")->check(cli::whole(1, int64_t{1} << 40))->capture_default_str();
  app.add_flag("-0,--null", o.null_separated, "paths on stdin are NUL-separated (find -print0)");
  cli::add_progress_option(app, o.progress);
  cli::parse(app, argc, argv);
  if (o.resume && o.out.empty()) cli::usage_error(app, "--resume needs --out FILE");
  // A PATH that does not exist is a mistake in the command, as for ls or find: nothing is run.
  for (const std::string& p : o.paths) {
    std::error_code ec;
    if (p != "-" && fs::symlink_status(p, ec).type() == fs::file_type::not_found)
      cli::usage_error(app, p + ": no such file or directory");
  }
  return o;
}

// $INKWELL_MODEL; else the installed model (PREFIX/share/inkwell/models, PREFIX being the parent
// of this binary's folder, so a relocated install works); else the source tree's (a build tree).
std::string default_model() {
  if (const char* env = std::getenv("INKWELL_MODEL"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = exe.parent_path().parent_path() / INKWELL_INSTALL_MODELDIR / "default.inkw";
    if (fs::is_regular_file(installed, ec)) return installed.string();
  }
  return std::string(INKWELL_SOURCE_MODELS_DIR) + "/default.inkw";
}

// The roots, streamed: "-" reads paths from stdin, one a line (a trailing CR dropped) or NUL-separated.
std::function<std::optional<std::string>()> roots_of(const Options& o) {
  return [&o, next = size_t{0}]() mutable -> std::optional<std::string> {
    while (next < o.paths.size()) {
      if (o.paths[next] != "-") return o.paths[next++];
      std::string line;
      if (std::getline(std::cin, line, o.null_separated ? '\0' : '\n')) {
        if (!o.null_separated && !line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      ++next;
    }
    return std::nullopt;
  };
}

// The roots, the same on every rank: mpirun gives stdin to rank 0 alone, so rank 0 reads the list
// ("-") whole and sends it to the others (held in memory: about 100 bytes a path).
std::function<std::optional<std::string>()> shared_roots(const Options& o, Communicator& comm) {
  std::vector<char> list;  // each path's length (8 bytes), then the path
  if (comm.rank() == 0) {
    const auto next = roots_of(o);
    while (const auto p = next()) {
      const uint64_t n = p->size();
      list.insert(list.end(), reinterpret_cast<const char*>(&n), reinterpret_cast<const char*>(&n) + sizeof n);
      list.insert(list.end(), p->begin(), p->end());
    }
  }
  comm.broadcast(list);
  return [list = std::move(list), at = size_t{0}]() mutable -> std::optional<std::string> {
    if (at >= list.size()) return std::nullopt;
    uint64_t n;
    std::memcpy(&n, list.data() + at, sizeof n);
    std::string path(list.data() + at + sizeof n, n);
    at += sizeof n + n;
    return path;
  };
}

int run(Options o) {
  // Under mpirun or srun: rank r classifies batches r, r+N, ... with its share of the node's
  // cores; rank 0 writes every row (sharded_output.hpp).
  Communicator& comm = world();
  const bool leader = comm.rank() == 0;
  if (!comm.alone()) {
    if (o.threads == 0) o.threads = cli::threads_per_rank(comm);
    if (!leader) o.progress = cli::ProgressMode::never;
  }
  const std::string model_path = o.model.empty() ? default_model() : o.model;
  const ModelFile model = cli::load_model_from(model_path, o.model_source);
  const Precision precision = parse_precision(o.precision);
  if (precision == Precision::int8 && model.calibration.empty())
    throw error(model_path, ": has no int8 calibration (make one with inkwell-quantize)");
  ClassifyConfig config;
  config.threads = o.threads;
  config.executors = o.executors;
  config.batch = o.batch;
  config.precision = precision;
  config.plan_source = check::parse_plan_source(o.plan);
  InferencePlanReport plan_report;
  // Under several ranks the leader measures first and the others then read its plan from the plan
  // cache (ranks on its node, or sharing its home), instead of timing against one another and
  // choosing apart. A node with another cache, or another CPU, measures its own.
  std::vector<char> leader_done;
  if (!leader) {
    comm.broadcast(leader_done);
    if (config.plan_source == check::PlanSource::measure) config.plan_source = check::PlanSource::cached;
  }
  config.plan = classify_plan(model, config, &plan_report);
  if (leader && !comm.alone()) comm.broadcast(leader_done);
  for (const check::PlanReport* r : {&plan_report.precision, &plan_report.run_batch})
    if (!r->timings.empty()) cli::say(stderr, "inkwell-classify: plan %s\n", r->summary().c_str());
  const Int8Plan& plan = config.plan->int8;
  if (!model.calibration.empty() && precision == Precision::automatic && plan.layers.empty())
    for (const std::string& note : plan.notes) cli::say(stderr, "inkwell-classify: %s\n", note.c_str());
  for (const std::string& warning : plan.warnings) cli::say(stderr, "inkwell-classify: warning: %s\n", warning.c_str());
  std::string int8_layers;
  for (const auto& [layer, q] : plan.layers) int8_layers += (int8_layers.empty() ? "" : " ") + layer;
  const std::string precision_text = (int8_layers.empty() ? "f32" : "int8: " + int8_layers) + "; " +
                                     std::to_string(config.plan->executors) + " model(s) x " +
                                     std::to_string(config.plan->threads_each) + " thread(s), runs of " +
                                     std::to_string(config.plan->run_batch);
  const bool csv = o.format == "csv";
  const std::vector<std::string> extensions = split_extensions(o.ext);
  FileWalker walker(comm.alone() ? roots_of(o) : shared_roots(o, comm), extensions);

  const int top_k = std::min<int>(o.top_k, static_cast<int>(model.classes.size()));
  const RowFormat format = csv ? RowFormat::csv : RowFormat::jsonl;
  LabelReport report(model.classes);

  // --resume: every row kept must be one this run would write, for the next input in order.
  int64_t resumed = 0;
  bool has_header = false;
  if (leader && o.resume && fs::exists(o.out)) {
    const std::vector<uint8_t> bytes = read_regular_file(o.out, uint64_t{1} << 40);
    const std::string_view content(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    const KeptRows kept = read_output_rows(content, format, model.classes, top_k, o.out);
    if (kept.keep_bytes != content.size()) {
      cli::say(stderr, "inkwell-classify: %s: removing a partial last row (%zu bytes)\n", o.out.c_str(),
               content.size() - kept.keep_bytes);
      fs::resize_file(o.out, kept.keep_bytes);
    }
    for (size_t i = 0; i < kept.paths.size(); ++i) {
      const auto e = walker.next();
      if (!e) throw error(o.out, " holds ", kept.paths.size(), " rows but the inputs have only ", i, " files");
      if (e->path != kept.paths[i])
        throw error(o.out, ": row ", i + 1, " is '", kept.paths[i], "' but input ", i + 1, " is '", e->path,
                    "': it is not an output of these inputs");
      if (o.labels_from_dirs) report.add(kept.paths[i], kept.labels[i]);
    }
    resumed = static_cast<int64_t>(kept.paths.size());
    has_header = kept.has_header;
    if (resumed) cli::say(stderr, "inkwell-classify: resuming after %lld rows of %s\n", static_cast<long long>(resumed), o.out.c_str());
  }

  if (!comm.alone()) {  // the other ranks walk past the rows kept, as rank 0 did
    int64_t kept = resumed;
    comm.broadcast(std::span<int64_t>(&kept, 1));
    for (int64_t i = resumed; i < kept; ++i)
      if (!walker.next()) throw error("rank ", comm.rank(), " found fewer files than rank 0 (was the tree changed?)");
    resumed = kept;
  }

  if (leader && !comm.alone() && o.out.empty())  // docs/distributed.md: 5 of 40 such runs lost bytes
    cli::say(stderr, "inkwell-classify: warning: rows on stdout pass through mpirun's relay, which can lose bytes "
                         "(Open MPI 5); --out FILE writes them directly\n");
  std::optional<cli::OutputFile> output;  // rank 0's
  if (leader) output.emplace(o.out, o.resume);
  FILE* out = leader ? output->get() : nullptr;
  if (leader && csv && !has_header) std::fputs(csv_header(top_k).c_str(), out);

  cli::StatusLine status(o.progress);
  std::optional<FileCounter> counter;
  if (status.enabled()) {
    std::vector<std::string> roots;
    for (const std::string& p : o.paths)
      if (p != "-") roots.push_back(p);
    if (roots.size() == o.paths.size()) counter.emplace(roots, extensions);
  }
  const auto start = std::chrono::steady_clock::now();
  int64_t rows = 0, failed = 0;
  auto show_status = [&] {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = seconds > 0 ? static_cast<double>(rows) / seconds : 0;
    std::string line = cli::thousands(resumed + rows);
    if (counter && counter->done()) {
      line += " of " + cli::thousands(counter->count()) + " files  " + cli::thousands(std::llround(rate)) + " img/s  ETA " +
              cli::human_duration(rate > 0 ? static_cast<double>(counter->count() - resumed - rows) / rate : NAN);
    } else {
      line += counter ? " of " + cli::thousands(counter->count()) + "+ files (counting)" : " files";
      line += "  " + cli::thousands(std::llround(rate)) + " img/s";
    }
    if (failed) line += "  " + cli::thousands(failed) + " failed";
    status.show(line);
  };
  auto sink = [&](const Prediction& p) {
    const std::string line = format_row(p, model.classes, top_k, format);
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size())
      throw error(o.out.empty() ? "stdout" : o.out, ": writing failed (", std::strerror(errno), ")");
    if (++rows % o.batch == 0) output->flush();
    failed += !p.error.empty();
    if (o.labels_from_dirs) report.add(p);
    if (status.due()) show_status();
  };

  cli::install_stop_signals();
  config.top_k = top_k;
  config.max_pixels = o.max_pixels;
  config.stop = &cli::stop_requested;
  config.already_done = resumed;
  if (!comm.alone()) {
    if (leader)
      cli::say(stderr, "inkwell-classify: %s; each rank %d threads, batches of %lld round-robin\n",
               comm.describe().c_str(), o.threads, static_cast<long long>(o.batch));
    config.shard = {comm.rank(), comm.size()};
  }
  ClassifyStats own;
  if (comm.alone()) {
    own = classify_files(model, walker, config, sink);
  } else {
    ShardedOutput sharded(comm, sink, cli::stop_requested);
    own = classify_batches(model, walker, config,
                           [&](int64_t seq, std::span<const Prediction> batch) { sharded.batch(seq, batch); });
    sharded.finish(own);
  }
  if (!leader) return cli::stop_requested ? cli::kInterrupted : cli::kOk;  // rank 0 reports
  output->close();
  status.clear();

  if (o.labels_from_dirs) report.print();
  // The rows written this run, every rank's (`own` counts only this rank's).
  const int64_t done = rows;
  cli::say(stderr, "inkwell-classify: %lld classified, %lld failed%s, %.2f s, %.0f img/s, model %s (%s)%s\n",
           static_cast<long long>(rows - failed), static_cast<long long>(failed),
           resumed ? (", " + std::to_string(resumed) + " rows kept from before").c_str() : "", own.seconds,
           own.seconds > 0 ? done / own.seconds : 0.0, model_path.c_str(), precision_text.c_str(),
           cli::stop_requested ? " (interrupted)" : "");
  if (cli::stop_requested) {
    if (!o.out.empty()) cli::say(stderr, "inkwell-classify: interrupted; --resume --out %s continues\n", o.out.c_str());
    return cli::kInterrupted;
  }
  if (done + resumed == 0) {
    std::string kept;
    for (const std::string& e : extensions) kept += (kept.empty() ? "" : ", ") + e;
    cli::say(stderr, "inkwell-classify: no files found%s (--ext \"\" keeps every file)\n",
             extensions.empty() ? "" : (" with extension " + kept).c_str());
    return cli::kSomeFailed;
  }
  return failed ? cli::kSomeFailed : cli::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<CLI::App> app;
  const Options options = parse(argc, argv, app);
  return cli::end_ranks(cli::run_or_report("inkwell-classify", [&] { return run(options); }));
}
