// Errors: every failure inkwell reports is an inkwell::Error whose message says what and where.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace inkwell {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds a message from any streamable parts: throw error("file ", path, ": bad magic ", m).
template <typename... Parts>
Error error(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return Error(out.str());
}

}  // namespace inkwell
