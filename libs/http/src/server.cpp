#include "splitvote/http/server.hpp"

#include "splitvote/http/cors.hpp"

#include "splitvote/observability/log.hpp"
#include "splitvote/observability/metrics.hpp"
#include "splitvote/random/random_source.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <stdexcept>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>

namespace splitvote::http {
inline namespace SPLITVOTE_HTTP_VARIANT {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;

using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

std::string new_request_id() {
  const auto id = random::random_id(random::thread_source());
  return random::to_hex(id);
}

struct http_metrics {
  prometheus::Family<prometheus::Counter>& requests =
      observability::counter_family("splitvote_http_requests_total", "HTTP requests by route, method and status");
  prometheus::Family<prometheus::Histogram>& latency = observability::histogram_family(
      "splitvote_http_request_duration_seconds", "HTTP request latency by route and status");
  prometheus::Gauge& in_flight = observability::gauge("splitvote_http_in_flight_requests", "Requests being handled");
  prometheus::Gauge& connections =
      observability::gauge("splitvote_http_open_connections", "Open connections counted against http.max_connections");
  prometheus::Counter& accepted = observability::counter(
      "splitvote_http_connections_accepted_total", "TCP connections accepted (those then refused by a limit included)");
  prometheus::Family<prometheus::Counter>& refused = observability::counter_family(
      "splitvote_http_overload_total", "Requests and connections answered 503 by a limit (in_flight, connections)");
  prometheus::Family<prometheus::Counter>& rate_limited =
      observability::counter_family("splitvote_http_rate_limited_total",
                                    "Requests and connections answered 429 by a rate or connection limit, by scope");
  prometheus::Family<prometheus::Counter>& tls_failures =
      observability::counter_family("splitvote_http_tls_handshake_failures_total",
                                    "TLS handshakes that failed (no common protocol or cipher, not TLS, timed out)");
};

http_metrics& metrics() {
  static http_metrics m;
  return m;
}

/// The key of a client in the rate limits: the address, but a whole /64 for IPv6 (one host
/// gets a /64 and could otherwise walk through 2^64 keys).
std::string client_key(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).to_string();
  if (a.is_v4()) return a.to_string();
  auto bytes = a.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return net::ip::address_v6(bytes).to_string() + "/64";
}

using network = std::variant<net::ip::network_v4, net::ip::network_v6>;

network parse_network(const std::string& text) {
  try {
    const bool has_prefix = text.find('/') != std::string::npos;
    if (text.find(':') != std::string::npos)
      return has_prefix ? net::ip::make_network_v6(text) : net::ip::network_v6(net::ip::make_address_v6(text), 128);
    return has_prefix ? net::ip::make_network_v4(text) : net::ip::network_v4(net::ip::make_address_v4(text), 32);
  } catch (const std::exception&) {
    throw std::invalid_argument("trusted proxy '" + text + "': not an address or a network (10.0.0.0/8, ::1)");
  }
}

bool contains(const network& n, const net::ip::address& a) {
  if (const auto* v4 = std::get_if<net::ip::network_v4>(&n)) {
    net::ip::address_v4 x;
    if (a.is_v4())
      x = a.to_v4();
    else if (a.to_v6().is_v4_mapped())
      x = net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
    else
      return false;
    return (x.to_uint() & v4->netmask().to_uint()) == v4->network().to_uint();
  }
  if (!a.is_v6()) return false;
  const auto& v6 = std::get<net::ip::network_v6>(n);
  return net::ip::network_v6(a.to_v6(), v6.prefix_length()).canonical() == v6.canonical();
}

/// TLS 1.2 and 1.3 only; for 1.2 the AEAD suites with forward secrecy (Mozilla's
/// "intermediate" list without DHE); 1.3's suites are all modern and stay at OpenSSL's default.
std::shared_ptr<ssl::context> make_tls_context(const server_options::tls_files& files) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  // An encrypted key fails at once instead of OpenSSL asking for a password on the terminal.
  ctx->set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                   ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
    throw std::runtime_error("TLS: cannot require TLS 1.2");
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(native,
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1)
    throw std::runtime_error("TLS: no usable cipher suite");
  try {
    ctx->use_certificate_chain_file(files.certificate_chain);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("TLS certificate chain " + files.certificate_chain + ": " + e.code().message());
  }
  try {
    ctx->use_private_key_file(files.private_key, ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("TLS private key " + files.private_key + ": " + e.code().message());
  }
  if (SSL_CTX_check_private_key(native) != 1)
    throw std::runtime_error("TLS: the private key " + files.private_key + " does not match the certificate " +
                             files.certificate_chain);
  return ctx;
}

}  // namespace

struct server::impl {
  impl(server_options o, const router& r)
      : options(std::move(o)),
        routes(r),
        client_limiter(options.client_rate, options.rate_limit_max_keys),
        cors(options.cors_origins, options.cors_max_age),
        acceptor(ioc) {
    for (const auto& text : options.trusted_proxies) proxies.push_back(parse_network(text));
    for (const auto& rule : options.route_rates)
      route_limiters.push_back(std::make_unique<rate_limiter>(rule.limit, options.rate_limit_max_keys));
    if (options.tls) {
#if SPLITVOTE_HTTP_TLS
      tls = make_tls_context(*options.tls);
#else
      throw std::invalid_argument("this server is built without HTTPS (splitvote::http_plain): unset http.tls");
#endif
    }
    any_rate = client_limiter.enabled() ||
               std::any_of(route_limiters.begin(), route_limiters.end(), [](const auto& l) { return l->enabled(); });
  }

  server_options options;
  const router& routes;
  rate_limiter client_limiter;
  std::vector<std::unique_ptr<rate_limiter>> route_limiters;  // one per options.route_rates
  std::vector<network> proxies;
  bool any_rate = false;  // whether any rate limit is on (else the client's key is not even worked out)
  cors_policy cors;
  std::mutex tls_mutex;
  std::shared_ptr<ssl::context> tls;  // the one new connections get (reload_tls swaps it)
  // Before the io_context: sessions destroyed with its pending handlers still count down.
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> limited_in_flight{0};
  std::mutex per_address_mutex;
  std::map<std::string, std::size_t> per_address;  // open connections by client key
  net::io_context ioc{options.threads};
  // Keeps the threads running while nothing is pending on the io_context: during a drain the
  // acceptor is closed and a request waiting for Kafka has no asio operation outstanding;
  // without this the threads return, and its answer, posted later, would never be written.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<bool> draining{false};
  std::atomic<long> in_flight{0};
  std::mutex idle_mutex;
  std::condition_variable idle;

  void request_started() {
    ++in_flight;
    metrics().in_flight.Increment();
  }
  void request_finished() {
    metrics().in_flight.Decrement();
    if (--in_flight == 0) {
      std::lock_guard lock(idle_mutex);
      idle.notify_all();
    }
  }

  /// False when max_in_flight requests are already being handled.
  bool admit() {
    if (options.max_in_flight == 0) {
      ++limited_in_flight;
      return true;
    }
    std::size_t current = limited_in_flight.load();
    do {
      if (current >= options.max_in_flight) return false;
    } while (!limited_in_flight.compare_exchange_weak(current, current + 1));
    return true;
  }

  bool trusted_proxy(const net::ip::address& a) const {
    return std::any_of(proxies.begin(), proxies.end(), [&](const network& n) { return contains(n, a); });
  }

  /// The client's key: the peer, or for a trusted proxy the rightmost address of
  /// X-Forwarded-For that is not a trusted proxy (what the proxies in front added).
  std::string client_of(const net::ip::address& peer, const request& req) const {
    if (proxies.empty() || !trusted_proxy(peer)) return client_key(peer);
    const auto forwarded = req.header("X-Forwarded-For");
    if (!forwarded) return client_key(peer);
    std::string_view rest = *forwarded;
    net::ip::address client = peer;
    while (!rest.empty()) {
      const auto comma = rest.rfind(',');
      std::string_view item = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      boost::system::error_code ec;
      const auto a = net::ip::make_address(std::string(item), ec);
      if (ec) break;  // garbage: the last good hop is as far as we can trust
      client = a;
      if (!trusted_proxy(a)) break;
    }
    return client_key(client);
  }

  struct refusal {
    std::string scope;
    std::chrono::seconds retry_after;
  };
  /// The first rate limit the request is over (each limit it is under takes a token).
  std::optional<refusal> over_rate(const std::string& client, const std::string& method, const router::match& m) {
    if (auto d = client_limiter.take(client); !d.allowed) return refusal{"client", d.retry_after};
    for (std::size_t i = 0; i < options.route_rates.size(); ++i) {
      const auto& rule = options.route_rates[i];
      if (rule.method != method || rule.pattern != m.pattern || !m.h) continue;
      const bool by_param = rule.key == server_options::route_rate::key_by::first_param;
      if (by_param && m.values.empty()) continue;
      if (auto d = route_limiters[i]->take(by_param ? m.values[0] : client); !d.allowed)
        return refusal{rule.scope, d.retry_after};
    }
    return std::nullopt;
  }

  /// Counts a new connection from `key`; false when it already has max_connections_per_address.
  bool open_from(const std::string& key) {
    std::lock_guard lock(per_address_mutex);
    auto& n = per_address[key];
    if (n >= options.max_connections_per_address) {
      if (n == 0) per_address.erase(key);
      return false;
    }
    ++n;
    return true;
  }
  void closed_from(const std::string& key) {
    std::lock_guard lock(per_address_mutex);
    if (auto it = per_address.find(key); it != per_address.end() && --it->second == 0) per_address.erase(it);
  }

  using plain_stream = beast::tcp_stream;
  using tls_stream = beast::ssl_stream<beast::tcp_stream>;

  template <class Stream>
  class session : public std::enable_shared_from_this<session<Stream>> {
    static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

  public:
    /// `counted`: the connection counts against max_connections (refused ones do not);
    /// `address_key`: non-empty when it counts against max_connections_per_address.
    session(impl& owner, tcp::socket socket, bool counted, std::string address_key, std::shared_ptr<ssl::context> tls)
        : owner_(owner),
          peer_(peer_of(socket)),
          tls_(std::move(tls)),
          stream_(make_stream(std::move(socket), tls_)),
          counted_(counted),
          address_key_(std::move(address_key)) {}
    ~session() { release(); }

    void start() {
      net::dispatch(lowest().get_executor(), [self = this->shared_from_this()] {
        if constexpr (is_tls) {
          // The handshake is part of the first request's read_timeout.
          self->lowest().expires_after(self->owner_.options.read_timeout);
          self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
            if (ec) {
              // Counted, not logged: scanners and port probes would fill the log.
              metrics().tls_failures.Add({}).Increment();
              return self->close();
            }
            self->read_header();
          });
        } else {
          self->read_header();
        }
      });
    }

    /// Over a connection limit: a 503 (all connections) or 429 (this address) before reading
    /// anything, then close. (Over TLS the handshake comes first: the answer must be readable.)
    void refuse(unsigned status, const char* limit, std::string detail) {
      net::dispatch(lowest().get_executor(), [self = this->shared_from_this(), status, limit,
                                              detail = std::move(detail)] {
        if constexpr (is_tls) {
          self->lowest().expires_after(self->owner_.options.read_timeout);
          self->stream_.async_handshake(ssl::stream_base::server, [self, status, limit, detail](beast::error_code ec) {
            if (ec) return self->close();
            self->refuse_limited(status, limit, detail, self->owner_.options.retry_after);
          });
        } else {
          self->refuse_limited(status, limit, detail, self->owner_.options.retry_after);
        }
      });
    }

  private:
    static net::ip::address peer_of(const tcp::socket& socket) {
      beast::error_code ec;
      const auto endpoint = socket.remote_endpoint(ec);
      return ec ? net::ip::address{} : endpoint.address();
    }
    static Stream make_stream(tcp::socket socket, const std::shared_ptr<ssl::context>& tls) {
      if constexpr (is_tls)
        return Stream(std::move(socket), *tls);
      else
        return Stream(std::move(socket));
    }
    beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

    void read_header() {
      parser_.emplace();
      parser_->header_limit(static_cast<std::uint32_t>(owner_.options.header_limit));
      // Until the route is known, allow the largest body any route takes; on_header narrows it.
      parser_->body_limit(owner_.routes.max_body_limit(owner_.options.default_body_limit));
      if (first_ || buffer_.size() > 0) {
        // The first request must arrive whole within read_timeout of the connection opening;
        // a pipelined one has begun already. One deadline for request line, headers and body:
        // a client dribbling bytes cannot stretch it.
        // (Over TLS the first request's deadline began before the handshake, in start().)
        if (!(first_ && is_tls)) lowest().expires_after(owner_.options.read_timeout);
        first_ = false;
        return read_request();
      }
      // Keep-alive: wait up to idle_timeout for the next request's first byte, then give the
      // whole request read_timeout from there.
      lowest().expires_after(owner_.options.idle_timeout);
      stream_.async_read_some(buffer_.prepare(4096),
                              [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                                if (ec) return self->close();
                                self->buffer_.commit(n);
                                self->lowest().expires_after(self->owner_.options.read_timeout);
                                self->read_request();
                              });
    }

    void read_request() {
      bhttp::async_read_header(
          stream_, buffer_, *parser_,
          [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
    }

    void on_header(beast::error_code ec) {
      if (ec) return fail(ec);
      started_ = clock_type::now();
      match_ = {};  // a request refused below is "unmatched" in metrics, not the previous route
      const auto& h = parser_->get();
      const std::string target(h.target());
      const auto q = target.find('?');
      path_ = target.substr(0, q);
      if (h.version() != 10 && h.version() != 11)
        return reject(400, "bad-request", "Bad request", "only HTTP/1.0 and HTTP/1.1 are served here");
      if (!path_.starts_with('/'))
        return reject(400, "bad-request", "Bad request", "the request target must be a path starting with '/'");
      // Both framings at once is how requests are smuggled past proxies (RFC 9112 §6.3).
      if (h.count(bhttp::field::content_length) && h.count(bhttp::field::transfer_encoding))
        return reject(400, "bad-request", "Bad request", "Content-Length and Transfer-Encoding together");
      // A request body is framed by chunked or by its length, nothing else (RFC 9112 §6.3).
      if (h.count(bhttp::field::transfer_encoding) && !parser_->chunked())
        return reject(400, "bad-request", "Bad request", "the only Transfer-Encoding served here is chunked");
      match_ = owner_.routes.find(std::string(h.method_string()), path_);
      {
        // Beast checks Content-Length against the limit while parsing the header, before the
        // route is known: check the route's own limit here; chunked bodies are checked as
        // they arrive.
        const std::size_t limit = match_.body_limit ? match_.body_limit : owner_.options.default_body_limit;
        if (const auto length = parser_->content_length(); length && *length > limit) return reject_too_large();
        parser_->body_limit(limit);
      }
      bhttp::async_read(stream_, buffer_, *parser_,
                        [self = this->shared_from_this()](beast::error_code ec2, std::size_t) { self->on_read(ec2); });
    }

    void on_read(beast::error_code ec) {
      if (ec) return fail(ec);
      lowest().expires_never();
      auto msg = parser_->release();
      keep_alive_ = msg.keep_alive();
      request req;
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      req.path = path_;
      if (const auto q = req.target.find('?'); q != std::string::npos) req.query = req.target.substr(q + 1);
      for (const auto& field : msg)
        req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      req.body = std::move(msg.body());
      const auto given = req.header("X-Request-Id");
      req.request_id = given && valid_request_id(*given) ? std::string(*given) : new_request_id();
      request_id_ = req.request_id;
      method_ = req.method;
      if (const auto origin = req.header("Origin")) origin_ = std::string(*origin);
      const auto& unlimited = owner_.options.unlimited_paths;
      if (std::find(unlimited.begin(), unlimited.end(), path_) == unlimited.end()) {
        // Read on a kept-alive connection after the drain began: refused before anything is
        // done, so no work starts once wait_idle may have seen the server idle (a vote begun
        // now could reach Kafka after the process stopped answering).
        if (owner_.draining.load()) {
          keep_alive_ = false;
          return refuse(503, "unavailable", "Service unavailable", "this instance is stopping; try again",
                        std::chrono::seconds(1));
        }
        if (auto over =
                owner_.any_rate ? owner_.over_rate(owner_.client_of(peer_, req), req.method, match_) : std::nullopt)
          return refuse_limited(429, over->scope.c_str(),
                                over->scope == "client" ? "too many requests from this address; slow down"
                                                        : "too many requests for this resource; slow down",
                                over->retry_after);
        // Refused at once rather than queued: a queue would only turn overload into latency
        // and memory. The connection stays usable.
        if (!owner_.admit())
          return refuse_limited(503, "in_flight", "too many requests in flight; try again", owner_.options.retry_after);
        admitted_ = true;
      }
      owner_.request_started();
      handling_ = true;
      if (req.method == "OPTIONS" && !match_.h && !match_.allowed.empty()) return write(options_response(req));
      owner_.routes.dispatch(req, match_, [self = this->shared_from_this()](response r) {
        net::post(self->lowest().get_executor(), [self, r = std::move(r)]() mutable { self->write(std::move(r)); });
      });
    }

    /// OPTIONS on a resource: a CORS preflight (204 with the CORS headers for an allowed
    /// origin and method, else 403 without them), or else 204 with Allow.
    response options_response(const request& req) const {
      std::vector<std::string> methods = match_.allowed;
      methods.push_back("OPTIONS");
      std::string allow;
      for (const auto& m : methods) allow += (allow.empty() ? "" : ", ") + m;
      const auto origin = req.header("Origin");
      const auto requested = req.header("Access-Control-Request-Method");
      if (origin && requested) {
        if (auto headers = owner_.cors.preflight(*origin, *requested, match_.allowed)) {
          response r;
          r.status = 204;
          r.content_type.clear();
          r.headers = std::move(*headers);
          return r;
        }
        response r = problem(403, "cors-refused", "Cross-origin request refused",
                             owner_.cors.allows(*origin)
                                 ? std::string(*requested).substr(0, 32) + " is not allowed here; allowed: " + allow
                                 : "this origin may not call the API from a browser (http.cors.allowed_origins)");
        r.headers.emplace_back("Vary", "Origin");
        return r;
      }
      response r;
      r.status = 204;
      r.content_type.clear();
      r.headers.emplace_back("Allow", allow);
      return r;
    }

    void refuse_limited(unsigned status, const char* limit, std::string_view detail, std::chrono::seconds retry_after) {
      if (status == 429)
        metrics().rate_limited.Add({{"scope", limit}}).Increment();
      else
        metrics().refused.Add({{"limit", limit}}).Increment();
      if (status == 429) return refuse(429, "rate-limited", "Too many requests", detail, retry_after);
      refuse(503, "overloaded", "Overloaded", detail, retry_after);
    }

    /// Answers with a problem and Retry-After without running the handler.
    void refuse(unsigned status, std::string_view slug, std::string_view title, std::string_view detail,
                std::chrono::seconds retry_after) {
      if (started_ == clock_type::time_point{}) started_ = clock_type::now();
      owner_.request_started();
      handling_ = true;
      response r = problem(status, slug, title, detail);
      r.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
      write(std::move(r));
    }

    void reject_too_large() {
      reject(413, "body-too-large", "Payload too large", "the request body exceeds this route's limit");
    }

    /// Answers a request whose headers were bad or whose body was too big, then closes.
    void reject(unsigned status, std::string_view slug, std::string_view title, std::string_view detail) {
      keep_alive_ = false;
      if (started_ == clock_type::time_point{}) started_ = clock_type::now();
      owner_.request_started();
      handling_ = true;
      write(problem(status, slug, title, detail));
    }

    void fail(beast::error_code ec) {
      if (ec == bhttp::error::body_limit) return reject_too_large();
      if (ec == bhttp::error::header_limit)
        return reject(431, "headers-too-large", "Request header fields too large", "the request headers exceed 8 KiB");
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
          ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        match_ = {};
        return reject(400, "bad-request", "Bad request", "malformed HTTP: " + ec.message());
      }
      close();
    }

    void write(response r) {
      auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(r.status), 11);
      res->set(bhttp::field::server, "splitvote");
      if (!r.content_type.empty()) res->set(bhttp::field::content_type, r.content_type);
      res->set("X-Request-Id", request_id_.empty() ? new_request_id() : request_id_);
      // What the handler set wins: a page sets its own Content-Security-Policy and Cache-Control.
      add_missing(r.headers,
                  owner_.cors.for_response(origin_ ? std::optional<std::string_view>(*origin_) : std::nullopt));
      add_missing(r.headers, security_headers(is_tls));
      for (const auto& [k, v] : r.headers) res->set(k, v);
      res->body() = std::move(r.body);
      const bool keep = keep_alive_ && !owner_.draining.load();
      res->keep_alive(keep);
      res->prepare_payload();
      status_ = r.status;
      lowest().expires_after(owner_.options.write_timeout);
      bhttp::async_write(stream_, *res,
                         [self = this->shared_from_this(), res, keep](beast::error_code ec, std::size_t) {
                           self->on_write(ec, keep);
                         });
    }

    void on_write(beast::error_code ec, bool keep) {
      const double seconds = std::chrono::duration<double>(clock_type::now() - started_).count();
      const std::string route = match_.pattern.empty() ? "unmatched" : match_.pattern;
      const std::string status = std::to_string(status_);
      metrics().requests.Add({{"route", route}, {"method", method_}, {"status", status}}).Increment();
      metrics().latency.Add({{"route", route}, {"status", status}}, observability::latency_buckets()).Observe(seconds);
      observability::log_info("http_request", {{"request_id", request_id_},
                                               {"method", method_},
                                               {"route", route},
                                               {"status", status_},
                                               {"ms", seconds * 1000}});
      if (admitted_) {
        admitted_ = false;
        --owner_.limited_in_flight;
      }
      if (handling_) {
        handling_ = false;
        owner_.request_finished();
      }
      request_id_.clear();
      method_.clear();
      origin_.reset();
      started_ = {};
      if (ec) return close();
      if (!keep) return linger_close();
      read_header();
    }

    void close() {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      lowest().close();
      release();
    }

    /// The connection stops counting against the limits once its socket is closed, not when
    /// the last holder of the session lets go (a handler's timer may keep it for seconds).
    void release() {
      if (counted_) {
        counted_ = false;
        --owner_.connections;
        metrics().connections.Decrement();
      }
      if (!address_key_.empty()) owner_.closed_from(std::exchange(address_key_, {}));
    }

    /// Closes after a last response without losing it: closing a socket with unread input
    /// sends a reset, and the client's stack may then drop the response it has not read.
    /// So: send FIN (over TLS: close_notify first), discard what the client still sends (for at
    /// most a second), then close.
    void linger_close() {
      lowest().expires_after(std::chrono::seconds(1));
      if constexpr (is_tls) {
        stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->close(); });
      } else {
        beast::error_code ignored;
        lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
        discard();
      }
    }
    void discard() {
      lowest().async_read_some(net::buffer(discard_),
                               [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                                 if (ec) return self->close();
                                 self->discard();
                               });
    }

    impl& owner_;
    net::ip::address peer_;
    std::shared_ptr<ssl::context> tls_;  // kept alive for this connection (a reload swaps the server's)
    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    router::match match_;
    std::string path_, request_id_, method_;
    std::optional<std::string> origin_;
    clock_type::time_point started_{};
    unsigned status_ = 0;
    std::array<char, 1024> discard_{};
    bool keep_alive_ = false;
    bool handling_ = false;
    bool admitted_ = false;  // counts against max_in_flight
    bool first_ = true;
    bool counted_ = false;
    std::string address_key_;
  };

  /// Starts a session on `socket`, plain or TLS as configured; with a `refuse_status` it only
  /// answers that (a connection limit) and closes.
  void launch(tcp::socket socket, bool counted, std::string address_key, unsigned refuse_status = 0,
              const char* limit = nullptr, std::string detail = {}) {
    std::shared_ptr<ssl::context> ctx;
    {
      std::lock_guard lock(tls_mutex);
      ctx = tls;
    }
    auto go = [&](auto s) {
      if (refuse_status)
        s->refuse(refuse_status, limit, std::move(detail));
      else
        s->start();
    };
#if SPLITVOTE_HTTP_TLS
    if (ctx)
      return go(std::make_shared<session<tls_stream>>(*this, std::move(socket), counted, std::move(address_key), ctx));
#endif
    go(std::make_shared<session<plain_stream>>(*this, std::move(socket), counted, std::move(address_key), nullptr));
  }

  void accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (!ec) metrics().accepted.Increment();
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
        observability::log_warn("accept_failed", {{"error", ec.message()}});
      } else if (options.max_connections != 0 && connections.load() >= options.max_connections) {
        // Only this loop adds connections, so the check and the increment below cannot race.
        launch(std::move(socket), false, {}, 503, "connections", "too many open connections; try again");
      } else {
        std::string key;
        if (options.max_connections_per_address != 0) {
          beast::error_code peer_ec;
          const auto peer = socket.remote_endpoint(peer_ec);
          // A trusted proxy carries many clients: its connections are not capped here.
          if (!peer_ec && !trusted_proxy(peer.address())) key = client_key(peer.address());
        }
        if (!key.empty() && !open_from(key)) {
          launch(std::move(socket), false, {}, 429, "connections_per_address",
                 "too many open connections from this address");
        } else {
          ++connections;
          metrics().connections.Increment();
          launch(std::move(socket), true, std::move(key));
        }
      }
      if (!draining.load()) accept();
    });
  }
};

bool is_network(const std::string& text) {
  try {
    parse_network(text);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

server::server(server_options options, const router& routes)
    : impl_(std::make_unique<impl>(std::move(options), routes)) {}

server::~server() { stop(); }

void server::start() {
  auto& i = *impl_;
  const tcp::endpoint endpoint(net::ip::make_address(i.options.address), i.options.port);
  i.acceptor.open(endpoint.protocol());
  i.acceptor.set_option(net::socket_base::reuse_address(true));
  i.acceptor.bind(endpoint);
  i.acceptor.listen(net::socket_base::max_listen_connections);
  i.accept();
  i.work.emplace(i.ioc.get_executor());
  for (int t = 0; t < i.options.threads; ++t) i.threads.emplace_back([&i] { i.ioc.run(); });
}

unsigned short server::port() const { return impl_->acceptor.local_endpoint().port(); }

bool server::tls() const { return impl_->options.tls.has_value(); }

void server::reload_tls() {
  auto& i = *impl_;
  if (!i.options.tls) return;
  auto fresh = make_tls_context(*i.options.tls);  // throws, and the old one stays, if the files are bad
  std::lock_guard lock(i.tls_mutex);
  i.tls = std::move(fresh);
}

void server::stop_accepting() {
  auto& i = *impl_;
  i.draining = true;
  net::post(i.ioc, [&i] {
    beast::error_code ignored;
    i.acceptor.close(ignored);
  });
}

bool server::wait_idle(std::chrono::milliseconds timeout) {
  auto& i = *impl_;
  std::unique_lock lock(i.idle_mutex);
  return i.idle.wait_for(lock, timeout, [&i] { return i.in_flight.load() == 0; });
}

void server::stop() {
  auto& i = *impl_;
  i.work.reset();
  i.ioc.stop();
  for (auto& t : i.threads)
    if (t.joinable()) t.join();
  i.threads.clear();
}

}  // namespace SPLITVOTE_HTTP_VARIANT
}  // namespace splitvote::http
