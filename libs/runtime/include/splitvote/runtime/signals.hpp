// Process lifecycle: SIGPIPE ignored, SIGINT/SIGTERM delivered to one waiting thread, periodic work.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace splitvote::runtime {

/// Call first in main, before any thread starts: blocks SIGINT/SIGTERM in every thread (they
/// inherit the mask) so only wait_for_stop_signal sees them, and ignores SIGPIPE.
void block_stop_signals();

/// Blocks until SIGINT or SIGTERM arrives; returns the signal number.
int wait_for_stop_signal();

/// A thread that calls `task` now and then every `interval` until stopped (on destruction or
/// request_stop()); `task` handles its own errors. An interval of 0 starts no work.
std::jthread every(std::chrono::milliseconds interval, std::function<void()> task);

}  // namespace splitvote::runtime
