#include "progress.hpp"

#include "inkwell/core/utf8.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace inkwell::cli {

ProgressMode parse_progress_mode(const std::string& text) {
  if (text == "auto") return ProgressMode::automatic;
  if (text == "always") return ProgressMode::always;
  if (text == "never") return ProgressMode::never;
  throw std::invalid_argument("--progress takes auto, always or never");
}

StatusLine::StatusLine(ProgressMode mode) : terminal_(isatty(STDERR_FILENO) == 1) {
  enabled_ = mode == ProgressMode::always || (mode == ProgressMode::automatic && terminal_);
  interval_ = std::chrono::milliseconds(200);
  if (!terminal_) {  // a log: a line every $INKWELL_PROGRESS_SECONDS (default 10)
    const char* env = std::getenv("INKWELL_PROGRESS_SECONDS");
    const double seconds = env ? std::atof(env) : 10.0;
    interval_ = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds > 0 ? seconds : 10.0));
  }
  last_ = std::chrono::steady_clock::now();
}

bool StatusLine::due() const { return enabled_ && std::chrono::steady_clock::now() - last_ >= interval_; }

void StatusLine::show(const std::string& text) {
  if (!enabled_) return;
  // The cursor control is the line's own; the text is made visible (a path may hold any bytes).
  if (terminal_) std::fprintf(stderr, "\r%s\033[K", visible(text).c_str());
  else std::fprintf(stderr, "%s\n", visible(text).c_str());
  std::fflush(stderr);
  shown_ = true;
  last_ = std::chrono::steady_clock::now();
}

void StatusLine::clear() {
  if (!shown_ || !terminal_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  shown_ = false;
}

std::string human_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long long s = std::llround(seconds);
  char buf[48];
  if (s < 60) std::snprintf(buf, sizeof buf, "%lld s", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lld min %02lld s", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lld h %02lld min", s / 3600, s / 60 % 60);
  return buf;
}

std::string thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace inkwell::cli
