// What the ranks of a sharded classification tell rank 0 (sharded_output.hpp), as bytes for
// Communicator::send:
//   rows   the rows of batch `seq` of the walk:   kind, seq, count, then per row
//          path, error (u32 length + bytes each), k (u32), k labels (i32), k probabilities (f32)
//   end    the sender has sent its last batch:   kind, batches numbered, walked_all
//   stop   (rank 0 to a rank) stop classifying:  kind
//   done   (rank 0 to a rank) nothing follows:   kind
// Integers are the host's (every rank runs the same binary on the same kind of machine).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "inkwell/classify/classify.hpp"
#include "inkwell/core/error.hpp"

namespace inkwell::classify_app {

struct BatchMessage {
  enum Kind : uint8_t { rows, end, stop, done };
  Kind kind = rows;
  int64_t seq = 0;                // rows: the batch's number in the walk
  std::vector<Prediction> predictions;
  int64_t batches = 0;            // end: batches the sender's walk numbered
  bool walked_all = false;        // end: false if the sender stopped early (interrupted)

  static BatchMessage signal(Kind kind) {  // stop, done
    BatchMessage m;
    m.kind = kind;
    return m;
  }
};

namespace message_detail {

template <typename T>
void put(std::vector<char>& out, T value) {
  static_assert(std::is_trivially_copyable_v<T>);
  const char* p = reinterpret_cast<const char*>(&value);
  out.insert(out.end(), p, p + sizeof value);
}

inline void put(std::vector<char>& out, const std::string& s) {
  put(out, static_cast<uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
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

}  // namespace message_detail

inline std::vector<char> encode(const BatchMessage& m) {
  using message_detail::put;
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

inline BatchMessage decode(std::span<const char> bytes) {
  message_detail::Reader in(bytes);
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

}  // namespace inkwell::classify_app
