// How every inkwell app stops: SIGINT (Ctrl-C), SIGTERM and SIGHUP (a closed terminal or ssh
// session) set `stop_requested`; the app finishes its step or batch, saves or flushes what it has,
// and exits 130. A second signal while it stops ends the process at once, with exit code 130:
// Ctrl-C twice, or `timeout -k`, always works.
#pragma once

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace inkwell::cli {

inline std::atomic<bool> stop_requested{false};

extern "C" inline void on_stop_signal(int) {
  if (stop_requested.exchange(true)) {  // lock-free, so async-signal-safe, as are write and _exit
    static const char message[] = "\ninterrupted again: exiting at once\n";
    [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, message, sizeof message - 1);
    _exit(130);
  }
}

inline void install_stop_signals() {
  struct sigaction action = {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaction(signal, &action, nullptr);
}

}  // namespace inkwell::cli
