// The HTTP/1.1 server: async Boost.Beast on a thread pool, limits per route, and a real drain.
#pragma once

#include "splitvote/http/router.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace splitvote::http {

struct server_options {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;  // 0: any free port (see server::port)
  int threads = 2;
  std::size_t header_limit = 8 * 1024;
  std::size_t default_body_limit = 64 * 1024;
  /// A whole request (request line, headers and body) must arrive within this, counted from
  /// the connection's opening for the first request and from the first byte for later ones.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};   // a keep-alive connection may wait this long
  std::chrono::milliseconds write_timeout{10000};  // a response must be taken within this
  /// Requests being handled at once (read, not yet answered); one more is answered 503 with
  /// Retry-After at once instead of waiting. 0: no limit.
  std::size_t max_in_flight = 1000;
  /// Open connections; one more is answered 503 and closed. 0: no limit.
  std::size_t max_connections = 1000;
  /// Paths the in-flight limit never refuses (probes must answer under overload).
  std::vector<std::string> unlimited_paths;
  std::chrono::seconds retry_after{1};  // the Retry-After of a 503 for a limit
};

class server {
public:
  server(server_options options, const router& routes);
  ~server();

  /// Binds and starts the threads; throws if the address is taken.
  void start();
  unsigned short port() const;

  /// Drain, step 1: stop accepting; connections close after their current response.
  void stop_accepting();
  /// Drain, step 2: true once no request is being handled, false at the timeout.
  bool wait_idle(std::chrono::milliseconds timeout);
  /// Stops the threads; in-flight requests are dropped, so drain first.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace splitvote::http
