// The HTTP/1.1 server: async Boost.Beast on a thread pool, limits per route, and a real drain.
#pragma once

#include "splitvote/http/router.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace splitvote::http {

struct server_options {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;  // 0: any free port (see server::port)
  int threads = 2;
  std::size_t header_limit = 8 * 1024;
  std::size_t default_body_limit = 64 * 1024;
  std::chrono::milliseconds read_timeout{10000};  // a whole request must arrive within this
  std::chrono::milliseconds idle_timeout{30000};  // a keep-alive connection may wait this long
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
