// The ceiling: a Beast server that answers every request 202 with a small JSON body and does
// no work, so the same client measures what the HTTP path alone can carry on this machine.
#pragma once

namespace splitvote::bench {

/// Listens on 127.0.0.1:port (0: any free port), prints "listening PORT" on stdout, and serves
/// with `threads` I/O threads until SIGINT or SIGTERM.
int run_ceiling(unsigned short port, int threads);

}  // namespace splitvote::bench
