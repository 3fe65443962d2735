#include "inkwell/model_file/model_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "inkwell/core/atomic_file.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/core/read_file.hpp"
#include "inkwell/data/image_dataset.hpp"
#include "inkwell/nn/layer_kinds.hpp"

static_assert(std::endian::native == std::endian::little, "model files are little-endian; add byte swapping");

namespace inkwell {

namespace {

constexpr char kMagic[8] = {'I', 'N', 'K', 'W', 'E', 'L', 'L', '\0'};
constexpr uint32_t kMaxString = 1 << 20, kMaxCount = 1 << 20;
// Parameters and optimizer state at the spec's limit, and room for metadata.
constexpr uint64_t kMaxModelFileBytes = 3 * sizeof(float) * kMaxSpecParameters + (64 << 20);

class Writer {
 public:
  template <typename T>
  void pod(T v) { bytes(&v, sizeof v); }
  void bytes(const void* p, size_t n) { out.insert(out.end(), static_cast<const char*>(p), static_cast<const char*>(p) + n); }
  void string(const std::string& s) { pod(static_cast<uint32_t>(s.size())); bytes(s.data(), s.size()); }
  void tensors(const std::vector<NamedTensor>& list) {
    pod(static_cast<uint32_t>(list.size()));
    for (const NamedTensor& t : list) {
      string(t.name);
      pod(static_cast<uint32_t>(t.dims.size()));
      for (int64_t d : t.dims) pod(d);
      bytes(t.data.data(), t.data.size() * sizeof(float));
    }
  }
  std::vector<char> out;
};

class Reader {
 public:
  Reader(const std::string& path, std::span<const char> data, size_t end) : path_(path), data_(data), end_(end) {}
  template <typename T>
  T pod(const char* what) {
    T v;
    bytes(&v, sizeof v, what);
    return v;
  }
  void bytes(void* p, size_t n, const char* what) {
    need(n, what);
    std::memcpy(p, data_.data() + pos_, n);
    pos_ += n;
  }
  // Checks that n more bytes are there, before anything is allocated for them.
  void need(uint64_t n, const char* what) const {
    if (end_ - pos_ < n) throw error(path_, ": truncated while reading ", what, " at byte ", pos_);
  }
  uint32_t count(const char* what) {
    const auto n = pod<uint32_t>(what);
    if (n > kMaxCount) throw error(path_, ": implausible ", what, " ", n, " at byte ", pos_ - 4);
    return n;
  }
  std::string string(const char* what) {
    const auto n = pod<uint32_t>(what);
    if (n > kMaxString) throw error(path_, ": implausible length ", n, " of ", what, " at byte ", pos_ - 4);
    need(n, what);
    std::string s(n, '\0');
    bytes(s.data(), n, what);
    return s;
  }
  std::vector<NamedTensor> tensors(const char* what) {
    const uint32_t n = count(what);
    need(uint64_t{n} * 8, what);  // each tensor takes at least a name length and a rank
    std::vector<NamedTensor> list(n);
    for (NamedTensor& t : list) {
      t.name = string("tensor name");
      const uint32_t rank = pod<uint32_t>("tensor rank");
      if (rank < 1 || rank > 4) throw error(path_, ": tensor ", t.name, " has rank ", rank, ", expected 1 to 4");
      int64_t n = 1;
      for (uint32_t i = 0; i < rank; ++i) {
        t.dims.push_back(pod<int64_t>("tensor dims"));
        if (t.dims.back() < 1 || t.dims.back() > (1 << 24)) throw error(path_, ": tensor ", t.name, " has dimension ", t.dims.back());
        n *= t.dims.back();
        if (n > (int64_t{1} << 30)) throw error(path_, ": tensor ", t.name, " is implausibly large (", to_string(t.dims), ")");
      }
      need(static_cast<uint64_t>(n) * sizeof(float), "tensor data");
      t.data.resize(n);
      bytes(t.data.data(), n * sizeof(float), "tensor data");
    }
    return list;
  }
  void skip(size_t n) { pos_ += n; }
  size_t position() const { return pos_; }

 private:
  const std::string& path_;
  std::span<const char> data_;
  size_t end_, pos_ = 0;
};

}  // namespace

void save_model_file(const std::string& path, const ModelFile& m) {
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.pod(kModelFormatVersion);
  w.string(m.architecture.spec);
  w.pod(static_cast<uint32_t>(m.architecture.input.size()));
  for (int64_t d : m.architecture.input) w.pod(d);
  w.pod(m.normalization.mean);
  w.pod(m.normalization.std);
  w.pod(static_cast<uint32_t>(m.classes.size()));
  for (const std::string& c : m.classes) w.string(c);
  w.tensors(m.tensors);
  w.tensors(m.optimizer);
  w.pod(static_cast<uint32_t>(m.meta.size()));
  for (const auto& [key, value] : m.meta) {
    w.string(key);
    w.string(value);
  }
  w.tensors(calibration_tensors(m.calibration));
  const uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(w.out.data()), static_cast<uInt>(w.out.size())));
  w.pod(crc);
  write_file_atomically(path, std::string_view(w.out.data(), w.out.size()));
}

void check_class_names(const std::vector<std::string>& classes, const std::string& path) {
  if (classes.size() < 2) throw error(path, ": ", classes.size(), " class names; a classifier needs at least 2");
  std::set<std::string_view> seen;
  for (size_t i = 0; i < classes.size(); ++i) {
    check_class_name(classes[i], path + ": class " + std::to_string(i));
    if (!seen.insert(classes[i]).second) throw error(path, ": class ", i, " ('", classes[i], "') is given twice");
  }
}

void check_model_fits(const ModelFile& m, const std::string& path, const Dims& input, size_t classes,
                      const std::string& data) {
  if (m.architecture.input != input)
    throw error(path, ": the model takes ", to_string(m.architecture.input), " inputs, ", data, " gives ", to_string(input));
  if (classes != 0 && classes != m.classes.size())
    throw error(path, ": the model has ", m.classes.size(), " classes, ", data, " has ", classes);
}

ModelFile load_model_file(const std::string& path) {
  // A run's directory given for its model: say which file was meant.
  if (std::filesystem::is_directory(path) && std::filesystem::is_regular_file(std::filesystem::path(path) / "model.inkw"))
    throw error(path, ": is a directory; did you mean ", (std::filesystem::path(path) / "model.inkw").string(), "?");
  return parse_model_file(read_regular_file(path, kMaxModelFileBytes), path);
}

ModelFile parse_model_file(std::span<const uint8_t> bytes, const std::string& path) {
  const std::span<const char> data(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (data.size() < sizeof kMagic + 8) throw error(path, ": not an inkwell model file (", data.size(), " bytes)");
  if (std::memcmp(data.data(), kMagic, sizeof kMagic) != 0) throw error(path, ": not an inkwell model file (bad magic)");
  uint32_t version;
  std::memcpy(&version, data.data() + sizeof kMagic, 4);
  if (version < 1 || version > kModelFormatVersion)
    throw error(path, ": model format version ", version, " is not supported (this build reads versions 1 to ",
                kModelFormatVersion, ")");
  uint32_t stored_crc;
  std::memcpy(&stored_crc, data.data() + data.size() - 4, 4);
  const auto crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size() - 4)));
  if (crc != stored_crc) throw error(path, ": checksum mismatch: the file is truncated or corrupted");

  Reader r(path, data, data.size() - 4);
  r.skip(sizeof kMagic + sizeof version);  // checked above
  ModelFile m;
  m.architecture.spec = r.string("architecture spec");
  m.architecture.input.resize(r.count("input rank"));
  for (int64_t& d : m.architecture.input) d = r.pod<int64_t>("input dims");
  m.normalization.mean = r.pod<float>("normalisation mean");
  m.normalization.std = r.pod<float>("normalisation std");
  m.classes.resize(r.count("class count"));
  for (std::string& c : m.classes) c = r.string("class name");
  m.tensors = r.tensors("tensor count");
  m.optimizer = r.tensors("optimizer tensor count");
  const uint32_t meta = r.count("metadata count");
  for (uint32_t i = 0; i < meta; ++i) {
    std::string key = r.string("metadata key");
    m.meta[key] = r.string("metadata value");
  }
  const std::vector<NamedTensor> quantization = version >= 2 ? r.tensors("quantization tensor count") : std::vector<NamedTensor>{};
  if (r.position() != data.size() - 4) throw error(path, ": ", data.size() - 4 - r.position(), " unexpected bytes after the last section");
  try {
    m.calibration = calibration_from_tensors(quantization, m.architecture);
  } catch (const Error& e) {
    throw error(path, ": ", e.what());
  }
  check_model(m, path);
  return m;
}

void check_model(const ModelFile& m, const std::string& path) {
  // Everything is checked against the spec before any model is built from it.
  std::vector<NamedDims> shapes;
  try {
    shapes = state_shapes(m.architecture);
  } catch (const Error& e) {
    throw error(path, ": ", e.what());
  }
  if (m.tensors.size() != shapes.size())
    throw error(path, ": the spec '", m.architecture.spec, "' has ", shapes.size(), " tensors, the file ", m.tensors.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    const NamedTensor& t = m.tensors[i];
    if (t.name != shapes[i].name || t.dims != shapes[i].dims)
      throw error(path, ": tensor ", i, " is ", t.name, " ", to_string(t.dims), ", the spec needs ", shapes[i].name, " ",
                  to_string(shapes[i].dims));
    for (size_t j = 0; j < t.data.size(); ++j)
      if (!std::isfinite(t.data[j]) || std::abs(t.data[j]) > kMaxStoredValue)
        throw error(path, ": tensor ", t.name, " holds ", t.data[j], " at ", j, " (stored values must be finite and within ±",
                    kMaxStoredValue, ")");
  }
  // A classifier: a last fc with one output per class name, and names fit to print and to tell apart.
  const std::vector<LayerSpec> layers = parse_spec(m.architecture.spec);
  const auto last = std::find_if(layers.rbegin(), layers.rend(),
                                 [](const LayerSpec& l) { return layer_kind(l.kind).changes_shape; });
  if (last == layers.rend() || last->kind != LayerSpec::Kind::fc)
    throw error(path, ": the spec '", m.architecture.spec, "' does not end with an fc layer, as a classifier does");
  if (last->out != static_cast<int64_t>(m.classes.size()))
    throw error(path, ": the model has ", last->out, " outputs but ", m.classes.size(), " class names");
  check_class_names(m.classes, path);
  try {
    calibration_from_tensors(calibration_tensors(m.calibration), m.architecture);
  } catch (const Error& e) {
    throw error(path, ": ", e.what());
  }
  const Normalization& n = m.normalization;
  if (!(std::abs(n.mean) <= kMaxNormalizationMean) || !(n.std >= kMinNormalizationStd && n.std <= kMaxNormalizationStd))
    throw error(path, ": normalisation mean ", n.mean, " std ", n.std, " (the mean must be within ±", kMaxNormalizationMean,
                ", the std from ", kMinNormalizationStd, " to ", kMaxNormalizationStd, ")");
  try {
    preprocess_style(m);
  } catch (const Error& e) {
    throw error(path, ": ", e.what());
  }
}

PreprocessStyle preprocess_style(const ModelFile& model) {
  const auto recorded = model.meta.find("preprocessing");
  return recorded == model.meta.end() ? PreprocessStyle::mnist : parse_preprocess_style(recorded->second);
}

}  // namespace inkwell
