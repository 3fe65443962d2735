// The one command-line convention of every inkwell app, on CLI11:
//   exit 0   done (and --help, --version: on stdout)
//   exit 1   a runtime error: one line on stderr, "app: FILE: reason"
//   exit 2   a usage error: any bad flag or value, one line with the reason, then a pointer to --help
//   exit 3   some inputs failed (inkwell-classify), or none were found
//   exit 130 interrupted (stop_signals.hpp)
// Values are checked by the validators below before they are converted, so "-1" never wraps
// into an unsigned and "adma" gets "did you mean adam?".
#pragma once

#include <CLI/CLI.hpp>

#include "progress.hpp"

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace inkwell::cli {

enum ExitCode : int { kOk = 0, kRuntimeError = 1, kUsage = 2, kSomeFailed = 3, kInterrupted = 130 };

// "inkwell-train 0.1.0 (oneDNN 2.6.3, oneTBB 2021.8.0)"
std::string version_text(const std::string& app);

// An app's parser with the shared settings: --help/-h, --version, help text layout, `footer`.
void configure(CLI::App& app, const std::string& footer);

// Parses, or exits: 0 after --help or --version, 2 with "app: reason" on any parse error.
void parse(CLI::App& app, int argc, char** argv);

// A usage error found after parsing (flags that do not go together): exits 2, like parse().
[[noreturn]] void usage_error(const CLI::App& app, const std::string& message);

// A whole number in [min, max]: digits with an optional '-' (refused by the range, not wrapped).
CLI::Validator whole(int64_t min, int64_t max);
// A finite real number in [min, max], or in (min, max) when `open`.
CLI::Validator real(double min, double max, bool open = false);
// One of `choices`, else "'x' is not one of a, b, c; did you mean b?".
CLI::Validator one_of(std::vector<std::string> choices);

// --progress auto|always|never into `mode` (progress.hpp), the same in every app.
void add_progress_option(CLI::App& app, ProgressMode& mode);
// --plan auto|measure|rule (check/measured_plan.hpp): the measured plan cached for this machine,
// measured again, or the static rule.
void add_plan_option(CLI::App& app, std::string& plan);

// The choice nearest to `word` by edit distance, if it is near enough to be a likely typo.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& choices);

// Prints as fprintf does, with the text made visible (core/utf8.hpp): a path or class name from a
// file can hold any bytes, and a terminal must never get a control byte from one. Every line the
// apps print goes through here; only the status line's own cursor control does not.
[[gnu::format(printf, 2, 3)]] void say(std::FILE* to, const char* format, ...);

// main()'s body: runs `body`, returning its exit code, or 1 after printing "app: what()".
template <typename Body>
int run_or_report(const std::string& app, Body body) {
  try {
    return body();
  } catch (const std::exception& e) {
    say(stderr, "%s: %s\n", app.c_str(), e.what());
    return kRuntimeError;
  }
}

}  // namespace inkwell::cli
