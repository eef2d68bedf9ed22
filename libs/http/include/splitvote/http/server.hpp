// The HTTP/1.1 server: async Boost.Beast on a thread pool, limits per route, and a real drain.
#pragma once

#include "splitvote/http/rate_limit.hpp"
#include "splitvote/http/router.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// splitvote::http serves HTTP and HTTPS; splitvote::http_plain is the same server compiled
// without the TLS session code (PUBLIC SPLITVOTE_HTTP_TLS=0). Each has its own inline namespace,
// so the two archives never define the same symbol, even in a binary that links both.
#ifndef SPLITVOTE_HTTP_TLS
#define SPLITVOTE_HTTP_TLS 1
#endif
#if SPLITVOTE_HTTP_TLS
#define SPLITVOTE_HTTP_VARIANT with_tls
#else
#define SPLITVOTE_HTTP_VARIANT plain
#endif

namespace splitvote::http {
inline namespace SPLITVOTE_HTTP_VARIANT {

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

  /// Requests per client address (every path but unlimited_paths); over it: 429 with
  /// Retry-After. Off unless per_second > 0.
  rate_limit client_rate;
  /// A limit of one route (method + pattern as registered), keyed by the client address or by
  /// the route's first path parameter (a poll id); over it: 429 with Retry-After.
  struct route_rate {
    enum class key_by { client_address, first_param };
    std::string method, pattern;
    key_by key = key_by::client_address;
    rate_limit limit;
    std::string scope;  // the label of splitvote_http_rate_limited_total
  };
  std::vector<route_rate> route_rates;
  std::size_t rate_limit_max_keys = 100000;  // buckets per limiter (least recently used go first)
  /// Open connections from one client address; one more is answered 429 and closed. 0: no limit.
  std::size_t max_connections_per_address = 0;
  /// Networks ("10.0.0.0/8", "::1") of proxies whose X-Forwarded-For names the client; the
  /// rightmost address in it that is not such a proxy is the client address. Others' header
  /// is ignored.
  std::vector<std::string> trusted_proxies;

  /// Origins allowed to call the API from a browser (exact "https://host[:port]"); empty: no CORS.
  std::vector<std::string> cors_origins;
  std::chrono::seconds cors_max_age{600};

  /// Serve HTTPS (TLS 1.2+, modern ciphers) with these PEM files; server::reload_tls rereads them.
  struct tls_files {
    std::string certificate_chain;
    std::string private_key;
  };
  std::optional<tls_files> tls;
};

/// Whether `text` is an address or network as server_options::trusted_proxies takes them.
bool is_network(const std::string& text);

class server {
public:
  server(server_options options, const router& routes);
  ~server();

  /// Binds and starts the threads; throws if the address is taken.
  void start();
  unsigned short port() const;
  /// Whether it serves HTTPS.
  bool tls() const;
  /// Rereads the certificate chain and key (on SIGHUP): new connections get them, open ones
  /// keep theirs. Throws, keeping the old ones, when the files are unreadable or do not match.
  void reload_tls();

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

}  // namespace SPLITVOTE_HTTP_VARIANT
}  // namespace splitvote::http
