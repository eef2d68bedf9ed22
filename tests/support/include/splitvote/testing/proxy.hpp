// Debian's nginx in front of ingest instances, running the shipped deploy/compose/nginx.conf.
#pragma once

#include "splitvote/testing/process.hpp"

#include <filesystem>
#include <memory>
#include <vector>

namespace splitvote::testing {

class nginx_proxy {
public:
  /// Derives the config from the shipped file with tests/support/nginx_config.py (which throws
  /// here, with its message, when a line it replaces is missing from the file), pointed at
  /// 127.0.0.1:`upstream_ports`, starts nginx in `dir`/nginx and waits until it proxies /livez.
  nginx_proxy(const std::filesystem::path& dir, const std::vector<unsigned short>& upstream_ports);
  /// SIGTERM (the master stops its workers first), then waits; killed after 10 s.
  ~nginx_proxy();
  nginx_proxy(const nginx_proxy&) = delete;
  nginx_proxy& operator=(const nginx_proxy&) = delete;

  unsigned short port() const { return port_; }
  /// nginx's worker processes now: each keeps its own cache of idle upstream connections.
  int workers() const;

private:
  unsigned short port_ = 0;
  std::unique_ptr<child_process> process_;
};

}  // namespace splitvote::testing
