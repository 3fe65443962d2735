// The number of files a classification run will see, counted on a thread of its own while the
// run goes (a walk of the same roots, names only), so the status line can give done/total and an
// ETA without making a million-file run wait for a full walk first. Paths from stdin are not
// counted: their total stays unknown.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "inkwell/data/walk.hpp"

namespace inkwell::classify_app {

class FileCounter {
 public:
  FileCounter(std::vector<std::string> roots, std::vector<std::string> extensions)
      : thread_([this, roots = std::move(roots), extensions = std::move(extensions)] {
          FileWalker walker(roots, extensions);
          while (!stop_ && walker.next()) ++count_;
          done_ = !stop_;
        }) {}
  ~FileCounter() {
    stop_ = true;
    thread_.join();
  }
  FileCounter(const FileCounter&) = delete;
  FileCounter& operator=(const FileCounter&) = delete;

  int64_t count() const { return count_; }  // so far
  bool done() const { return done_; }       // count() is the total

 private:
  std::atomic<int64_t> count_{0};
  std::atomic<bool> done_{false}, stop_{false};
  std::thread thread_;  // last: starts once the counters exist
};

}  // namespace inkwell::classify_app
