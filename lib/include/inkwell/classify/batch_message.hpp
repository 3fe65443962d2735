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
#include <span>
#include <vector>

#include "inkwell/classify/classify.hpp"

namespace inkwell {

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

std::vector<char> encode(const BatchMessage& m);
// Throws inkwell::Error on bytes that are not one whole message.
BatchMessage decode(std::span<const char> bytes);

}  // namespace inkwell
