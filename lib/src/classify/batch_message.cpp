#include "inkwell/classify/batch_message.hpp"

#include <cstring>
#include <string>
#include <type_traits>

#include "inkwell/core/error.hpp"

namespace inkwell {

namespace {

// Appends `n` bytes (resize and copy: GCC 12 warns, falsely, on vector<char>::insert here).
void append(std::vector<char>& out, const void* bytes, size_t n) {
  const size_t at = out.size();
  out.resize(at + n);
  if (n) std::memcpy(out.data() + at, bytes, n);
}

template <typename T>
void put(std::vector<char>& out, T value) {
  static_assert(std::is_trivially_copyable_v<T>);
  append(out, &value, sizeof value);
}

void put(std::vector<char>& out, const std::string& s) {
  put(out, static_cast<uint32_t>(s.size()));
  append(out, s.data(), s.size());
}

class Reader {
 public:
  explicit Reader(std::span<const char> bytes) : bytes_(bytes) {}
  template <typename T>
  T get() {
    T value;
    std::memcpy(&value, take(sizeof value), sizeof value);
    return value;
  }
  std::string text() {
    const auto n = get<uint32_t>();
    return std::string(take(n), n);
  }
  // A count of items of at least `item_bytes` each, no more than the bytes left can hold.
  size_t count(size_t item_bytes) {
    const auto n = get<uint32_t>();
    if (n * item_bytes > bytes_.size() - pos_) throw error("a message from another rank counts ", n, " items it does not hold");
    return n;
  }
  bool at_end() const { return pos_ == bytes_.size(); }

 private:
  const char* take(size_t n) {
    if (n > bytes_.size() - pos_) throw error("a message from another rank is cut short (", bytes_.size(), " bytes)");
    const char* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  std::span<const char> bytes_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<char> encode(const BatchMessage& m) {
  std::vector<char> out;
  put(out, m.kind);
  if (m.kind == BatchMessage::rows) {
    put(out, m.seq);
    put(out, static_cast<uint32_t>(m.predictions.size()));
    for (const Prediction& p : m.predictions) {
      put(out, p.path);
      put(out, p.error);
      put(out, static_cast<uint32_t>(p.labels.size()));
      for (int label : p.labels) put(out, static_cast<int32_t>(label));
      for (float probability : p.probabilities) put(out, probability);
    }
  } else if (m.kind == BatchMessage::end) {
    put(out, m.batches);
    put(out, static_cast<uint8_t>(m.walked_all));
  }
  return out;
}

BatchMessage decode(std::span<const char> bytes) {
  Reader in(bytes);
  BatchMessage m;
  const auto kind = in.get<uint8_t>();
  if (kind > BatchMessage::done) throw error("a message from another rank has unknown kind ", int{kind});
  m.kind = static_cast<BatchMessage::Kind>(kind);
  if (m.kind == BatchMessage::rows) {
    m.seq = in.get<int64_t>();
    m.predictions.resize(in.count(3 * sizeof(uint32_t)));
    for (Prediction& p : m.predictions) {
      p.path = in.text();
      p.error = in.text();
      p.labels.resize(in.count(sizeof(int32_t) + sizeof(float)));
      for (int& label : p.labels) label = in.get<int32_t>();
      p.probabilities.resize(p.labels.size());
      for (float& probability : p.probabilities) probability = in.get<float>();
    }
  } else if (m.kind == BatchMessage::end) {
    m.batches = in.get<int64_t>();
    m.walked_all = in.get<uint8_t>() != 0;
  }
  if (!in.at_end()) throw error("a message from another rank has ", bytes.size(), " bytes, more than it holds");
  return m;
}

}  // namespace inkwell
