#include "splitvote/runtime/signals.hpp"

#include <pthread.h>
#include <csignal>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <utility>

namespace splitvote::runtime {
namespace {
std::atomic<bool> hangup_blocked{false};

sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (hangup_blocked) sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

void block_stop_signals(bool hangup) {
  std::signal(SIGPIPE, SIG_IGN);
  hangup_blocked = hangup;
  const sigset_t set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_stop_signal(const std::function<void()>& on_hangup) {
  const sigset_t set = stop_set();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig != SIGHUP) return sig;
    if (on_hangup) on_hangup();
  }
}

bool stop_signal_within(std::chrono::milliseconds timeout) {
  const sigset_t set = stop_set();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    timespec ts{static_cast<time_t>(left.count() / 1'000'000'000), static_cast<long>(left.count() % 1'000'000'000)};
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) return true;
  }
}

std::jthread every(std::chrono::milliseconds interval, std::function<void()> task,
                   std::function<void(const std::exception&)> on_failure, std::function<void()> on_recovery) {
  return every(interval, [task = std::move(task), on_failure = std::move(on_failure),
                          on_recovery = std::move(on_recovery), failing = false]() mutable {
    try {
      task();
    } catch (const std::exception& e) {
      if (!std::exchange(failing, true)) on_failure(e);
      return;
    }
    if (std::exchange(failing, false) && on_recovery) on_recovery();
  });
}

std::jthread every(std::chrono::milliseconds interval, std::function<void()> task) {
  if (interval.count() <= 0) return {};
  return std::jthread([interval, task = std::move(task)](std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any wake;
    while (!stop.stop_requested()) {
      task();
      std::unique_lock lock(m);
      wake.wait_for(lock, stop, interval, [] { return false; });
    }
  });
}

}  // namespace splitvote::runtime
