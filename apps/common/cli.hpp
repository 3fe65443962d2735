// What every inkwell app's command line does the same way: a usage error prints the message and
// the usage text and exits 2; any other error is one line, "app: message", and exit code 1.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace inkwell::cli {

[[noreturn]] inline void usage_error(const char* app, const char* usage, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n%s", app, message.c_str(), usage);
  std::exit(2);
}

// main()'s body: runs `body`, returning its exit code, or 1 after printing what it threw.
template <typename Body>
int run_or_report(const char* app, Body body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", app, e.what());
    return 1;
  }
}

}  // namespace inkwell::cli
