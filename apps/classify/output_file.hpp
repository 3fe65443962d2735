// inkwell-classify's output: stdout or a file, written through a 64 KiB buffer that lives exactly
// as long as its stream. A file's buffer is owned with the FILE and outlives its fclose, on every
// path, an exception included (glibc's exit-time flush once wrote a freed buffer into --out);
// stdout's is static, because stdout is flushed at exit after everything else is gone.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "inkwell/core/error.hpp"

namespace inkwell::cli {

class OutputFile {
 public:
  static constexpr size_t kBufferBytes = 1 << 16;

  // path "" is stdout; append keeps what the file holds (--resume).
  OutputFile(const std::string& path, bool append) : path_(path.empty() ? "stdout" : path) {
    if (path.empty()) {
      static char stdout_buffer[kBufferBytes];
      file_ = stdout;
      std::setvbuf(file_, stdout_buffer, _IOFBF, kBufferBytes);
      return;
    }
    file_ = std::fopen(path.c_str(), append ? "ab" : "wb");
    if (!file_) throw error(path, ": cannot open for writing (", std::strerror(errno), ")");
    buffer_ = std::make_unique<char[]>(kBufferBytes);
    std::setvbuf(file_, buffer_.get(), _IOFBF, kBufferBytes);
  }
  ~OutputFile() {
    if (file_ && file_ != stdout) std::fclose(file_);  // before buffer_ goes (members die after)
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  FILE* get() const { return file_; }

  // Flushes (and closes a file), throwing an error that names it when the bytes did not land
  // (a full disk, say): rows already flushed stay, a partial buffer is reported, never hidden.
  void close() {
    const bool flushed = std::fflush(file_) == 0;
    const int flush_errno = errno;
    bool closed = true;
    if (file_ != stdout) closed = std::fclose(file_) == 0;
    const int close_errno = errno;
    file_ = nullptr;
    if (!flushed || !closed)
      throw error(path_, ": writing failed (", std::strerror(flushed ? close_errno : flush_errno), ")");
  }
  // A flush at a row boundary; a failure is an error now, not at the end.
  void flush() {
    if (std::fflush(file_) != 0) throw error(path_, ": writing failed (", std::strerror(errno), ")");
  }

 private:
  std::unique_ptr<char[]> buffer_;  // declared first: destroyed after the destructor's fclose
  std::string path_;
  FILE* file_ = nullptr;
};

}  // namespace inkwell::cli
