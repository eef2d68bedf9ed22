// Process signals: SIGPIPE ignored, SIGINT/SIGTERM delivered to one waiting thread.
#pragma once

namespace splitvote::runtime {

/// Call first in main, before any thread starts: blocks SIGINT/SIGTERM in every thread (they
/// inherit the mask) so only wait_for_stop_signal sees them, and ignores SIGPIPE.
void block_stop_signals();

/// Blocks until SIGINT or SIGTERM arrives; returns the signal number.
int wait_for_stop_signal();

}  // namespace splitvote::runtime
