// The live status line of long work (training, classification), on stderr so that output data
// (stdout, --out) never mixes with it.
//   --progress auto    only when stderr is a terminal: one line, redrawn in place (\r)
//   --progress always  also into a pipe or log: on a terminal as above, elsewhere a plain line
//                      every 10 s, or $INKWELL_PROGRESS_SECONDS (a log of `... 2>&1 | tee log`
//                      stays readable)
//   --progress never
#pragma once

#include <chrono>
#include <string>

namespace inkwell::cli {

enum class ProgressMode { automatic, always, never };

ProgressMode parse_progress_mode(const std::string& text);  // auto | always | never

class StatusLine {
 public:
  explicit StatusLine(ProgressMode mode);
  ~StatusLine() { clear(); }
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;

  bool enabled() const { return enabled_; }
  // Whether a new line is due (redraws are rate-limited); cheap, so callers check before formatting.
  bool due() const;
  void show(const std::string& text);  // draws now
  void clear();                        // erases the line before other output (terminal only)

 private:
  bool enabled_ = false, terminal_ = false, shown_ = false;
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_;
};

// "45 s", "3 min 05 s", "2 h 07 min": a duration as a person reads it.
std::string human_duration(double seconds);
// "1,234,567"
std::string thousands(int64_t n);

}  // namespace inkwell::cli
