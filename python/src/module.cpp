// inkwell._core: the C++ library under the Python package (python/inkwell/__init__.py holds the
// documented, typed API). numpy arrays in and out; the GIL is released while inkwell computes;
// inkwell's errors become ValueError (OSError when a file cannot be read).
#include <omp.h>
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "inkwell/check/plan_cache.hpp"
#include "inkwell/check/plan_check.hpp"
#include "inkwell/core/cpu_budget.hpp"
#include "inkwell/classify/classify.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/data/dataset.hpp"
#include "inkwell/data/walk.hpp"
#include "inkwell/nn/loss.hpp"
#include "inkwell/nn/model.hpp"
#include "inkwell/onnx/onnx_model.hpp"
#include "inkwell/train/training_run.hpp"

namespace py = pybind11;
using namespace inkwell;

namespace {

// A model file loaded, with the oneDNN models built for it on demand (one per batch size,
// precision and worker, one OpenMP thread each), run by one call at a time.
class PyModel {
 public:
  explicit PyModel(ModelFile file) : file_(std::move(file)), table_(input_table(file_.normalization)) {}

  // x: (N, H, W) or (N, C, H, W), uint8 pixels (normalised here) or float32 (as they are).
  py::tuple predict(py::array x, const std::string& precision, int threads, int top_k, int64_t batch) {
    const Dims& in = file_.architecture.input;
    const int64_t image = element_count(in);
    const bool is_u8 = py::isinstance<py::array_t<uint8_t>>(x), is_f32 = py::isinstance<py::array_t<float>>(x);
    if (!is_u8 && !is_f32) throw py::type_error("predict takes uint8 pixels or float32 normalised images, got dtype " +
                                                std::string(py::str(x.dtype())));
    const bool shape_ok = (x.ndim() == 3 && in[0] == 1 && x.shape(1) == in[1] && x.shape(2) == in[2]) ||
                          (x.ndim() == 4 && x.shape(1) == in[0] && x.shape(2) == in[1] && x.shape(3) == in[2]);
    if (!shape_ok) {
      std::string got;
      for (py::ssize_t i = 0; i < x.ndim(); ++i) {
        got += i ? ", " : "(";
        got += std::to_string(x.shape(i));
      }
      throw py::value_error("predict takes images (N, " + std::to_string(in[1]) + ", " + std::to_string(in[2]) + ") or (N, " +
                            std::to_string(in[0]) + ", " + std::to_string(in[1]) + ", " + std::to_string(in[2]) + "), got " +
                            got + ")");
    }
    const int64_t n = x.shape(0), classes = static_cast<int64_t>(file_.classes.size());
    top_k = std::clamp(top_k, 1, static_cast<int>(classes));
    if (batch < 0 || batch > kMaxRunBatch)
      throw py::value_error("batch takes 1 to " + std::to_string(kMaxRunBatch) + ", or 0: the size measured fastest here");
    if (threads < 0 || threads > 4096) throw py::value_error("threads takes 0 to 4096 (0: the CPUs this process may use)");
    const Precision p = parse_precision(precision);
    if (p == Precision::int8 && file_.calibration.empty())
      throw py::value_error("the model has no int8 calibration (make one with inkwell-quantize)");
    // Read in place when the array is C-contiguous; otherwise one contiguous copy first.
    py::array data = py::array::ensure(x, py::array::c_style);
    const void* pixels = data.data();
    py::array_t<int64_t> labels(std::vector<py::ssize_t>{n, top_k});
    py::array_t<float> probabilities(std::vector<py::ssize_t>{n, top_k});
    int64_t* out_labels = labels.mutable_data();
    float* out_p = probabilities.mutable_data();
    {
      py::gil_scoped_release release;
      std::lock_guard lock(mutex_);
      if (batch == 0) batch = measured_batch(p);
      // Chunks of `rows` images, claimed by `workers` one-thread models: a worker whose core another
      // process holds takes fewer chunks instead of stalling a team (docs/plans.md). A row's
      // result depends only on its place in its chunk: the same bytes for any thread count.
      const int64_t rows = std::min(batch, std::max<int64_t>(n, 1)), chunks = (n + rows - 1) / rows;
      const int64_t wanted = chunks < 2 ? 1 : threads > 0 ? threads : default_threads();  // (reading the quota costs ~40 us)
      const int workers = static_cast<int>(std::clamp<int64_t>(wanted, 1, std::max<int64_t>(chunks, 1)));
      std::vector<Model*> models;
      for (int w = 0; w < workers; ++w) models.push_back(&model(p, rows, w));
      std::atomic<int64_t> next{0};
      auto work = [&](Model& m) {
        std::vector<double> terms(static_cast<size_t>(classes));  // one row's softmax terms
        std::vector<int> top(static_cast<size_t>(top_k));          // and its most probable classes
        for (int64_t c = next++; c < chunks; c = next++) {
          const int64_t first = c * rows, count = std::min(rows, n - first);
          float* src = m.src();
          if (is_u8) {
            const uint8_t* px = static_cast<const uint8_t*>(pixels) + first * image;
            for (int64_t i = 0; i < count * image; ++i) src[i] = table_[px[i]];
          } else {
            std::memcpy(src, static_cast<const float*>(pixels) + first * image, static_cast<size_t>(count * image) * sizeof(float));
          }
          std::fill(src + count * image, src + rows * image, 0.f);
          m.forward();
          for (int64_t r = 0; r < count; ++r) {
            const double sum = softmax_terms({m.dst() + r * classes, static_cast<size_t>(classes)}, terms);
            most_probable(terms, top);
            for (int k = 0; k < top_k; ++k) {
              out_labels[(first + r) * top_k + k] = top[k];
              out_p[(first + r) * top_k + k] = static_cast<float>(terms[top[k]] / sum);
            }
          }
        }
      };
      std::vector<std::thread> helpers;
      for (int w = 1; w < workers; ++w) helpers.emplace_back(work, std::ref(*models[w]));
      work(*models[0]);
      for (std::thread& h : helpers) h.join();
    }
    if (top_k == 1) return py::make_tuple(labels.attr("reshape")(n), probabilities.attr("reshape")(n));
    return py::make_tuple(labels, probabilities);
  }

  const ModelFile& file() const { return file_; }

 private:
  // The int8 plan at `batch` (empty: f32), made once for every worker: the precision measured at
  // the full batch, then checked at this batch, on one thread.
  const Int8Plan& plan(Precision p, int64_t batch) {
    const auto key = std::make_pair(static_cast<int>(p), batch);
    if (auto it = plans_.find(key); it != plans_.end()) return it->second;
    Int8Plan plan;
    if (!file_.calibration.empty() && p != Precision::f32) {
      check::PlanCache cache;
      plan = check::check_int8_plan(file_.architecture, file_.tensors, file_.normalization,
                                    check::measured_int8_plan(file_.architecture, file_.tensors, file_.calibration, p,
                                                              kMaxRunBatch, check::PlanSource::cached, cache),
                                    batch, cache);
    }
    return plans_.emplace(key, std::move(plan)).first->second;
  }

  // The rows a forward pass when predict is given none: the fastest of 256 and its halves down to 16
  // on this machine, for the plan at 256 (check/measured_plan.hpp; cached like the precision).
  int64_t measured_batch(Precision p) {
    if (auto it = batches_.find(static_cast<int>(p)); it != batches_.end()) return it->second;
    check::PlanCache cache;
    const int64_t rows = check::measured_run_batch(file_.architecture, file_.tensors, plan(p, kMaxRunBatch),
                                                   kMaxRunBatch, check::PlanSource::cached, cache);
    return batches_.emplace(static_cast<int>(p), rows).first->second;
  }

  // Worker `worker`'s model at `batch`, one OpenMP thread.
  Model& model(Precision p, int64_t batch, int worker) {
    const auto key = std::make_tuple(static_cast<int>(p), batch, worker);
    auto it = models_.find(key);
    if (it != models_.end()) return *it->second;
    const int omp_before = omp_get_max_threads();
    omp_set_num_threads(1);
    const Int8Plan& int8 = plan(p, batch);
    auto m = int8.layers.empty() ? std::make_unique<Model>(file_.architecture, batch, Mode::infer)
                                 : std::make_unique<Model>(file_.architecture, batch, int8);
    omp_set_num_threads(omp_before);
    m->load_state(file_.tensors);
    return *models_.emplace(key, std::move(m)).first->second;
  }

  ModelFile file_;
  std::array<float, 256> table_;
  std::mutex mutex_;
  std::map<std::pair<int, int64_t>, Int8Plan> plans_;
  std::map<int, int64_t> batches_;  // measured_batch's, by precision
  std::map<std::tuple<int, int64_t, int>, std::unique_ptr<Model>> models_;
};

// A classification running on its own thread, its predictions handed over in order through a
// bounded queue: the iterator Python sees.
class Classification {
 public:
  Classification(std::shared_ptr<PyModel> model, std::vector<std::string> roots, ClassifyConfig config)
      : model_(std::move(model)), walker_(std::move(roots)), config_(config) {
    config_.stop = &stop_;
    thread_ = std::thread([this] {
      try {
        classify_files(model_->file(), walker_, config_, [this](const Prediction& p) {
          std::unique_lock lock(mutex_);
          room_.wait(lock, [&] { return queue_.size() < 4096 || stop_; });
          if (stop_) return;
          queue_.push_back(p);
          ready_.notify_one();
        });
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex_);
        error_ = e.what();
      }
      std::lock_guard lock(mutex_);
      done_ = true;
      ready_.notify_one();
    });
  }
  ~Classification() { close(); }

  void close() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
      room_.notify_all();
    }
    if (thread_.joinable()) {
      py::gil_scoped_release release;
      thread_.join();
    }
  }

  py::tuple next() {
    Prediction p;
    {
      py::gil_scoped_release release;
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return !queue_.empty() || done_; });
      if (queue_.empty()) {
        lock.unlock();
        if (thread_.joinable()) thread_.join();
        if (!error_.empty()) throw Error(error_);
        throw py::stop_iteration();
      }
      p = std::move(queue_.front());
      queue_.pop_front();
      room_.notify_one();
    }
    const auto& classes = model_->file().classes;
    if (!p.error.empty()) return py::make_tuple(p.path, py::none(), 0.0f, p.error);
    return py::make_tuple(p.path, classes[p.labels[0]], p.probabilities[0], "ok");
  }

 private:
  std::shared_ptr<PyModel> model_;
  FileWalker walker_;
  ClassifyConfig config_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::deque<Prediction> queue_;
  bool done_ = false;
  std::string error_;
  std::thread thread_;
};

// metrics.csv's rows as columns: {"epoch": [...], "train_loss": [...], ...}; blanks are None.
py::dict history_of(const TrainingRun& run) {
  static const char* columns[] = {"epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "test_loss", "test_acc",
                                  "images_per_sec", "seconds", "lr"};
  py::dict h;
  for (const char* c : columns) h[c] = py::list();
  for (const EpochRow& row : run.history()) {
    size_t start = 0;
    for (const char* c : columns) {
      const size_t comma = row.csv.find(',', start);
      const std::string field = row.csv.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      py::list list = h[c];
      if (field.empty()) list.append(py::none());
      else if (std::string(c) == "epoch") list.append(std::stoi(field));
      else list.append(std::stod(field));
      start = comma == std::string::npos ? row.csv.size() : comma + 1;
    }
  }
  return h;
}

py::tuple train(const RunSettings& settings, const RunControls& controls, bool resume, py::object callback) {
  std::unique_ptr<TrainingRun> run;
  {
    py::gil_scoped_release release;
    run = resume ? TrainingRun::resume(controls) : TrainingRun::start(settings, controls);
  }
  std::vector<std::string> said = run->notices();
  said.insert(said.end(), run->warnings().begin(), run->warnings().end());
  bool interrupted = false;
  py::object callback_error = py::none();
  RunCallbacks cb;
  cb.stop_requested = [&] {
    if (interrupted) return true;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) {  // Ctrl-C: KeyboardInterrupt pending; stop, save, then raise it
      PyErr_Clear();
      interrupted = true;
    }
    return interrupted;
  };
  cb.on_epoch = [&](const EpochReport& e) {
    if (callback.is_none()) return true;
    py::gil_scoped_acquire gil;
    py::dict metrics;
    metrics["epoch"] = e.epoch, metrics["epochs"] = e.epochs;
    metrics["train_loss"] = e.train.loss, metrics["train_acc"] = e.train.accuracy;
    metrics["valid_loss"] = e.has_valid ? py::cast(e.valid.loss) : py::none();
    metrics["valid_acc"] = e.has_valid ? py::cast(e.valid.accuracy) : py::none();
    metrics["test_loss"] = e.has_test ? py::cast(e.test.loss) : py::none();
    metrics["test_acc"] = e.has_test ? py::cast(e.test.accuracy) : py::none();
    metrics["images_per_sec"] = e.train.images / e.train.seconds, metrics["lr"] = e.lr, metrics["best"] = e.best;
    try {
      const py::object go_on = callback(metrics);
      return go_on.is_none() || go_on.cast<bool>();
    } catch (py::error_already_set& err) {
      if (err.matches(PyExc_KeyboardInterrupt)) {
        interrupted = true;
        return false;
      }
      callback_error = py::reinterpret_borrow<py::object>(err.value());
      return false;
    }
  };
  RunEnd end = RunEnd::complete;
  if (!run->complete()) {
    py::gil_scoped_release release;
    end = run->run(cb);
  }
  // Saved by now: a Ctrl-C is raised as Python raises it, a callback's exception as it was.
  if (interrupted) {
    PyErr_SetNone(PyExc_KeyboardInterrupt);
    throw py::error_already_set();
  }
  if (!callback_error.is_none()) {
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(callback_error.ptr())), callback_error.ptr());
    throw py::error_already_set();
  }
  ModelFile file = load_model_file(run->model_path());
  return py::make_tuple(history_of(*run), std::make_shared<PyModel>(std::move(file)), end == RunEnd::complete, said);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "inkwell's C++ library; use the inkwell package, which documents it";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const SettingsError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Error& e) {
      const std::string what = e.what();
      const bool file = what.find("cannot open") != std::string::npos || what.find("not found") != std::string::npos ||
                        what.find("No such file") != std::string::npos;
      PyErr_SetString(file ? PyExc_OSError : PyExc_ValueError, e.what());
    }
  });

  py::class_<PyModel, std::shared_ptr<PyModel>>(m, "Model")
      .def("predict", &PyModel::predict, py::arg("x"), py::arg("precision") = "auto", py::arg("threads") = 0,
           py::arg("top_k") = 1, py::arg("batch") = 256)
      .def_property_readonly("classes", [](const PyModel& self) { return self.file().classes; })
      .def_property_readonly("architecture", [](const PyModel& self) { return self.file().architecture.spec; })
      .def_property_readonly("input_shape", [](const PyModel& self) { return self.file().architecture.input; })
      .def_property_readonly("normalization",
                             [](const PyModel& self) { return py::make_tuple(self.file().normalization.mean, self.file().normalization.std); })
      .def_property_readonly("calibrated", [](const PyModel& self) { return !self.file().calibration.empty(); })
      .def_property_readonly("metadata", [](const PyModel& self) { return self.file().meta; })
      .def("layers", [](const PyModel& self) {
        py::list out;
        for (const LayerSummary& l : describe(self.file().architecture).layers)
          out.append(py::make_tuple(l.layer, l.output, l.parameters, l.flops));
        return out;
      })
      .def("save", [](const PyModel& self, const std::string& path) { save_model(path, self.file()); });

  m.def("load", [](const std::string& path, std::optional<std::pair<float, float>> normalize, std::vector<std::string> classes) {
    OnnxImportOptions options;
    if (normalize) options.normalization = Normalization{normalize->first, normalize->second};
    options.classes = std::move(classes);
    py::gil_scoped_release release;
    return std::make_shared<PyModel>(load_model(path, options));
  }, py::arg("path"), py::arg("normalize") = py::none(), py::arg("classes") = std::vector<std::string>{});

  py::class_<Classification>(m, "Classification")
      .def("__iter__", [](Classification& self) -> Classification& { return self; })
      .def("__next__", &Classification::next)
      .def("close", &Classification::close);
  m.def("classify", [](std::shared_ptr<PyModel> model, std::vector<std::string> roots, const std::string& precision,
                       int threads, int64_t batch) {
    ClassifyConfig config;
    config.threads = threads;
    config.batch = batch;
    config.precision = parse_precision(precision);
    if (config.batch < 1 || config.batch > kMaxClassifyBatch) throw py::value_error("batch takes 1 to 4096");
    for (const std::string& r : roots)
      if (!std::filesystem::exists(r)) throw py::value_error(r + ": no such file or directory");
    {
      py::gil_scoped_release release;
      config.plan = classify_plan(model->file(), config);
    }
    return std::make_unique<Classification>(std::move(model), std::move(roots), config);
  });

  py::class_<RunSettings>(m, "RunSettings")
      .def(py::init<>())
      .def_readwrite("data", &RunSettings::data).def_readwrite("model", &RunSettings::model)
      .def_readwrite("init_from", &RunSettings::init_from).def_readwrite("freeze", &RunSettings::freeze)
      .def_readwrite("preprocessing", &RunSettings::preprocessing).def_readwrite("optimizer", &RunSettings::optimizer)
      .def_readwrite("schedule", &RunSettings::schedule).def_readwrite("precision", &RunSettings::precision)
      .def_readwrite("epochs", &RunSettings::epochs).def_readwrite("batch", &RunSettings::batch)
      .def_readwrite("lr", &RunSettings::lr).def_readwrite("weight_decay", &RunSettings::weight_decay)
      .def_readwrite("test_fraction", &RunSettings::test_fraction).def_readwrite("seed", &RunSettings::seed)
      .def_readwrite("augment", &RunSettings::augment).def_readwrite("skip_bad", &RunSettings::skip_bad)
      .def_readwrite("keep_best", &RunSettings::keep_best).def_readwrite("test_at_end", &RunSettings::test_at_end)
      .def("set_valid", [](RunSettings& s, double fraction, int64_t count, int64_t cap) { s.valid = {fraction, count, cap}; });
  py::class_<RunControls>(m, "RunControls")
      .def(py::init<>())
      .def_readwrite("out", &RunControls::out).def_readwrite("force", &RunControls::force)
      .def_readwrite("threads", &RunControls::threads).def_readwrite("plan", &RunControls::plan)
      .def_readwrite("checkpoint_steps", &RunControls::checkpoint_steps);
  m.def("train", &train, py::arg("settings"), py::arg("controls"), py::arg("resume"), py::arg("callback"));

  m.def("load_dataset", [](const std::string& name, const std::string& split) {
    DatasetSplits d;
    {
      py::gil_scoped_release release;
      d = load_named_dataset(name, dataset_dir(name));
    }
    std::vector<const Dataset*> parts;
    if (split == "train" || split == "all") parts.push_back(&d.train);
    if (split == "test" || split == "all") parts.push_back(&d.test);
    if (parts.empty()) throw py::value_error("split takes train, test or all, got '" + split + "'");
    int64_t n = 0;
    for (const Dataset* p : parts) n += p->size();
    py::array_t<uint8_t> images(std::vector<py::ssize_t>{n, d.train.rows, d.train.cols});
    py::array_t<int64_t> labels(std::vector<py::ssize_t>{n});
    int64_t at = 0;
    for (const Dataset* p : parts) {
      std::memcpy(images.mutable_data() + at * p->rows * p->cols, p->image(0), static_cast<size_t>(p->size() * p->rows * p->cols));
      for (int64_t i = 0; i < p->size(); ++i) labels.mutable_data()[at + i] = p->labels[i];
      at += p->size();
    }
    return py::make_tuple(images, labels, d.train.classes);
  });
  m.def("dataset_dir", &dataset_dir);
  m.def("dataset_names", &dataset_names);
}
