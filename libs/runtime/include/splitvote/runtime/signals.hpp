// Process lifecycle: SIGPIPE ignored, SIGINT/SIGTERM (and SIGHUP if asked) to one waiting thread, periodic work.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <thread>

namespace splitvote::runtime {

/// Call first in main, before any thread starts: blocks SIGINT/SIGTERM in every thread (they
/// inherit the mask) so only wait_for_stop_signal sees them, and ignores SIGPIPE.
/// `hangup`: SIGHUP too, for a service that reloads something on it (else SIGHUP keeps its
/// default action).
void block_stop_signals(bool hangup = false);

/// Blocks until SIGINT or SIGTERM arrives; returns the signal number. If SIGHUP was blocked
/// by block_stop_signals(true), each SIGHUP calls `on_hangup` (on this thread) and waits on.
int wait_for_stop_signal(const std::function<void()>& on_hangup = {});

/// Waits up to `timeout` for SIGINT or SIGTERM (blocked by block_stop_signals); true if one
/// came (it is consumed). A SIGHUP meanwhile is consumed and ignored.
bool stop_signal_within(std::chrono::milliseconds timeout);

/// A thread that calls `task` now and then every `interval` until stopped (on destruction or
/// request_stop()); `task` handles its own errors. An interval of 0 starts no work.
std::jthread every(std::chrono::milliseconds interval, std::function<void()> task);

/// As above, for a task that may throw: `on_failure` hears the first failure of each run of
/// failures (once per outage, not once per round); the round that succeeds and ends the run
/// calls `on_recovery` (if given).
std::jthread every(std::chrono::milliseconds interval, std::function<void()> task,
                   std::function<void(const std::exception&)> on_failure, std::function<void()> on_recovery = {});

}  // namespace splitvote::runtime
