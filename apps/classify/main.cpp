// inkwell-classify: classifies image files (directories walked recursively) with an inkwell model
// and writes one CSV or JSONL row per file, in sorted traversal order, bad files included.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "../common/cli.hpp"
#include "../common/stop_signals.hpp"
#include "output_file.hpp"
#include "inkwell/train/checkpoint.hpp"
#include "inkwell/classify/classify.hpp"
#include "inkwell/classify/output_rows.hpp"
#include "inkwell/core/read_file.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/data/walk.hpp"

namespace fs = std::filesystem;
using namespace inkwell;
namespace cli = inkwell::cli;

namespace {

const char* kUsage = R"(usage: inkwell-classify [options] PATH...
  PATH                  a directory (walked recursively), a file, or - (paths on stdin, one a line)
  --model FILE          model file (default: $INKWELL_MODEL, else the model shipped in models/)
  --out FILE            write rows here as they come (default: stdout)
  --format csv|jsonl    default csv: path,label,confidence,status[,label_2,confidence_2,...]
  --top-k K             also give the next K-1 labels and their probabilities
  --threads N           default: all cores
  --batch N             images per inference batch, default 64
  --executors N         inference models run at once, sharing --threads (default: one per thread)
  --ext EXT             file extension kept inside directories, default .png ("" keeps all)
  --labels-from-dirs    the parent folder is the true label: print accuracy and a confusion matrix
  --resume              keep the rows already in --out FILE and classify only the rest
  --max-pixels N        refuse larger images (decompression bombs), default 64000000
exit: 0 all classified, 3 some files failed, 2 usage error, 1 fatal error, 130 interrupted
)";

[[noreturn]] void usage_error(const std::string& message) { cli::usage_error("inkwell-classify", kUsage, message); }

struct Options {
  std::vector<std::string> paths;
  std::string model, out, format = "csv", ext = ".png";
  int top_k = 1, threads = 0, executors = 0;
  int64_t batch = 64, max_pixels = 64'000'000;  // batch 64: activations stay in cache (docs/performance.md)
  bool labels_from_dirs = false, resume = false;
};

int64_t positive(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    const long long n = std::stoll(v, &used);
    if (used == v.size() && n > 0) return n;
  } catch (const std::exception&) {
  }
  usage_error(flag + " needs a positive whole number, got '" + v + "'");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (a == "--labels-from-dirs") { o.labels_from_dirs = true; continue; }
    if (a == "--resume") { o.resume = true; continue; }
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      const std::string v = argv[++i];
      if (a == "--model") o.model = v;
      else if (a == "--out") o.out = v;
      else if (a == "--format") o.format = v;
      else if (a == "--ext") o.ext = v;
      else if (a == "--top-k") o.top_k = static_cast<int>(positive(a, v));
      else if (a == "--threads") o.threads = static_cast<int>(positive(a, v));
      else if (a == "--batch") o.batch = positive(a, v);
      else if (a == "--executors") o.executors = static_cast<int>(positive(a, v));
      else if (a == "--max-pixels") o.max_pixels = positive(a, v);
      else usage_error("unknown option " + a);
      continue;
    }
    o.paths.push_back(a);
  }
  if (o.paths.empty()) usage_error("no PATH given");
  if (o.format != "csv" && o.format != "jsonl") usage_error("--format must be csv or jsonl");
  if (o.resume && o.out.empty()) usage_error("--resume needs --out FILE");
  if (o.batch > 65536) usage_error("--batch must be at most 65536");
  return o;
}

// $INKWELL_MODEL; else the installed model (PREFIX/share/inkwell/models, PREFIX being the parent
// of this binary's folder, so a relocated install works); else the source tree's (a build tree).
std::string default_model() {
  if (const char* env = std::getenv("INKWELL_MODEL"); env && *env) return env;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = exe.parent_path().parent_path() / INKWELL_INSTALL_MODELDIR / "default.inkw";
    if (std::filesystem::is_regular_file(installed, ec)) return installed.string();
  }
  return std::string(INKWELL_SOURCE_MODELS_DIR) + "/default.inkw";
}

class Report {  // --labels-from-dirs
 public:
  explicit Report(const std::vector<std::string>& classes) : classes_(classes), confusion_(classes.size(), std::vector<int64_t>(classes.size())) {
    for (size_t i = 0; i < classes.size(); ++i) index_[classes[i]] = static_cast<int>(i);
  }
  void add(const Prediction& p) {
    if (p.error.empty()) add(p.path, p.labels[0]);
  }
  // A row kept from before (--resume): scored like the new ones.
  void add(const std::string& path, const std::string& label) {
    if (!label.empty()) add(path, index_.at(label));
  }
  void print() const {
    int64_t total = 0, right = 0;
    std::fprintf(stderr, "per-class accuracy:\n");
    for (size_t t = 0; t < classes_.size(); ++t) {
      int64_t n = 0;
      for (int64_t c : confusion_[t]) n += c;
      total += n, right += confusion_[t][t];
      if (n) std::fprintf(stderr, "  %-12s %7.2f%%  (%lld images)\n", classes_[t].c_str(), 100.0 * confusion_[t][t] / n, static_cast<long long>(n));
    }
    std::fprintf(stderr, "confusion matrix (rows: true label, columns: predicted):\n%12s", "");
    for (const auto& c : classes_) std::fprintf(stderr, " %6.6s", c.c_str());
    std::fprintf(stderr, "\n");
    for (size_t t = 0; t < classes_.size(); ++t) {
      std::fprintf(stderr, "  %-10.10s", classes_[t].c_str());
      for (int64_t c : confusion_[t]) std::fprintf(stderr, " %6lld", static_cast<long long>(c));
      std::fprintf(stderr, "\n");
    }
    if (unknown_) std::fprintf(stderr, "%lld images were in folders not named after a class: not scored\n", static_cast<long long>(unknown_));
    std::fprintf(stderr, "accuracy: %.4f (%lld of %lld)\n", total ? static_cast<double>(right) / total : 0.0,
                 static_cast<long long>(right), static_cast<long long>(total));
  }

 private:
  void add(const std::string& path, int predicted) {
    const auto it = index_.find(fs::path(path).parent_path().filename().string());
    if (it == index_.end()) {
      ++unknown_;
      return;
    }
    ++confusion_[it->second][predicted];
  }

  std::vector<std::string> classes_;
  std::map<std::string, int> index_;
  std::vector<std::vector<int64_t>> confusion_;
  int64_t unknown_ = 0;
};

int run(const Options& o) {
  const std::string model_path = o.model.empty() ? default_model() : o.model;
  const ModelFile model = load_model_file(model_path);
  const bool csv = o.format == "csv";

  // Roots, streamed: "-" reads paths from stdin.
  size_t next_root = 0;
  FileWalker walker(
      [&]() -> std::optional<std::string> {
        while (next_root < o.paths.size()) {
          if (o.paths[next_root] != "-") return o.paths[next_root++];
          std::string line;
          if (std::getline(std::cin, line)) return line;
          ++next_root;
        }
        return std::nullopt;
      },
      o.ext);

  const int top_k = std::min<int>(o.top_k, static_cast<int>(model.classes.size()));
  const RowFormat format = csv ? RowFormat::csv : RowFormat::jsonl;
  Report report(model.classes);

  // --resume: every row kept must be one this run would write, for the next input in order.
  int64_t resumed = 0;
  bool has_header = false;
  if (o.resume && fs::exists(o.out)) {
    const std::vector<uint8_t> bytes = read_regular_file(o.out, uint64_t{1} << 40);
    const std::string_view content(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    const KeptRows kept = read_output_rows(content, format, model.classes, top_k, o.out);
    if (kept.keep_bytes != content.size()) {
      std::fprintf(stderr, "inkwell-classify: %s: removing a partial last row (%zu bytes)\n", o.out.c_str(),
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
    if (resumed) std::fprintf(stderr, "inkwell-classify: resuming after %lld rows of %s\n", static_cast<long long>(resumed), o.out.c_str());
  }

  cli::OutputFile output(o.out, o.resume);
  FILE* out = output.get();
  if (csv && !has_header) std::fputs(csv_header(top_k).c_str(), out);

  int64_t rows = 0;
  auto sink = [&](const Prediction& p) {
    const std::string line = format_row(p, model.classes, top_k, format);
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size())
      throw error(o.out.empty() ? "stdout" : o.out, ": writing failed (", std::strerror(errno), ")");
    if (++rows % o.batch == 0) output.flush();
    if (o.labels_from_dirs) report.add(p);
  };

  cli::install_stop_signals();
  ClassifyConfig config;
  config.threads = o.threads;
  config.executors = o.executors;
  config.batch = o.batch;
  config.top_k = top_k;
  config.max_pixels = o.max_pixels;
  config.stop = &cli::stop_requested;
  config.already_done = resumed;
  const ClassifyStats stats = classify_files(model, walker, config, sink);
  output.close();

  if (o.labels_from_dirs) report.print();
  const int64_t done = stats.classified + stats.failed;
  std::fprintf(stderr, "inkwell-classify: %lld classified, %lld failed%s, %.2f s, %.0f img/s, model %s%s\n",
               static_cast<long long>(stats.classified), static_cast<long long>(stats.failed),
               resumed ? (", " + std::to_string(resumed) + " rows kept from before").c_str() : "", stats.seconds,
               stats.seconds > 0 ? done / stats.seconds : 0.0, model_path.c_str(),
               cli::stop_requested ? " (interrupted)" : "");
  if (cli::stop_requested) {
    if (!o.out.empty()) std::fprintf(stderr, "inkwell-classify: interrupted; --resume --out %s continues\n", o.out.c_str());
    return 130;
  }
  return stats.failed ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  return cli::run_or_report("inkwell-classify", [&] { return run(options); });
}
