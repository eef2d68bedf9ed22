#include "splitvote/runtime/signals.hpp"

#include <csignal>
#include <pthread.h>

#include <condition_variable>
#include <mutex>

namespace splitvote::runtime {
namespace {
sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

void block_stop_signals() {
  std::signal(SIGPIPE, SIG_IGN);
  const sigset_t set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_stop_signal() {
  const sigset_t set = stop_set();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
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
