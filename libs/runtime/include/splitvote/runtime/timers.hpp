// One thread of timers: run a short task once a deadline passes (Boost.Asio steady_timer).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace splitvote::runtime {

class timers {
public:
  timers();
  /// Stops the thread; tasks whose time has not come are dropped without running.
  ~timers();
  timers(const timers&) = delete;
  timers& operator=(const timers&) = delete;

  /// Runs `task` on the timer thread after `delay`. Tasks must be short and not throw.
  void after(std::chrono::milliseconds delay, std::function<void()> task);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace splitvote::runtime
