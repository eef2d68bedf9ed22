// Child processes for end-to-end tests: start a real binary, signal it, wait; killed on destruction.
#pragma once

#include "splitvote/testing/watchdog.hpp"

#include <boost/assert/source_location.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace splitvote::testing {

class child_process {
public:
  /// Starts `exe args...` with `env` added to this process's environment; stdout and stderr
  /// go to `log` (appended).
  child_process(std::string exe, std::vector<std::string> args, std::map<std::string, std::string> env,
                std::filesystem::path log);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  void signal(int sig);
  /// Exit status (or 128 + signal), or nullopt if still running at the timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  int pid() const { return pid_; }
  const std::filesystem::path& log() const { return log_; }

private:
  int pid_ = -1;
  std::string name_;  // the binary's file name, for the watchdog
  std::optional<int> status_;
  std::filesystem::path log_;
};

/// Polls `condition` every 20 ms until true or the timeout; returns its last value. While it
/// waits, the watchdog knows the call site (a hung test names the line it was waiting at).
template <typename F>
bool eventually(F&& condition, std::chrono::milliseconds timeout,
                const boost::source_location& at = BOOST_CURRENT_LOCATION) {
  const step waiting("eventually() at " + where(at) + ", up to " +
                     std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + " s");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace splitvote::testing
