#include "splitvote/http/server.hpp"

#include "splitvote/observability/log.hpp"
#include "splitvote/observability/metrics.hpp"
#include "splitvote/random/random_source.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace splitvote::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
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
  thread_local auto rng = random::system_source();
  const auto id = random::random_id(*rng);
  return random::to_hex(id);
}

struct http_metrics {
  prometheus::Family<prometheus::Counter>& requests = prometheus::BuildCounter()
      .Name("splitvote_http_requests_total")
      .Help("HTTP requests by route, method and status")
      .Register(observability::registry());
  prometheus::Family<prometheus::Histogram>& latency = prometheus::BuildHistogram()
      .Name("splitvote_http_request_duration_seconds")
      .Help("HTTP request latency by route and status")
      .Register(observability::registry());
  prometheus::Gauge& in_flight = prometheus::BuildGauge()
      .Name("splitvote_http_in_flight_requests")
      .Help("Requests being handled")
      .Register(observability::registry())
      .Add({});
  prometheus::Gauge& connections = prometheus::BuildGauge()
      .Name("splitvote_http_open_connections")
      .Help("Open connections counted against http.max_connections")
      .Register(observability::registry())
      .Add({});
  prometheus::Family<prometheus::Counter>& refused = prometheus::BuildCounter()
      .Name("splitvote_http_overload_total")
      .Help("Requests and connections answered 503 by a limit (in_flight, connections)")
      .Register(observability::registry());
};

http_metrics& metrics() {
  static http_metrics m;
  return m;
}

}  // namespace

struct server::impl {
  impl(server_options o, const router& r) : options(std::move(o)), routes(r), acceptor(ioc) {}

  server_options options;
  const router& routes;
  // Before the io_context: sessions destroyed with its pending handlers still count down.
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> limited_in_flight{0};
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

  class session : public std::enable_shared_from_this<session> {
  public:
    /// `counted`: the connection counts against max_connections (refused ones do not).
    session(impl& owner, tcp::socket socket, bool counted)
        : owner_(owner), stream_(std::move(socket)), counted_(counted) {}
    ~session() {
      if (counted_) {
        --owner_.connections;
        metrics().connections.Decrement();
      }
    }

    void start() {
      net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
    }

    /// Over max_connections: a 503 before reading anything, then close.
    void refuse() {
      net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
        self->refuse_overloaded(/*limit=*/"connections", "too many open connections; try again");
      });
    }

  private:
    void read_header() {
      parser_.emplace();
      parser_->header_limit(static_cast<std::uint32_t>(owner_.options.header_limit));
      // Until the route is known, allow the largest body any route takes; on_header narrows it.
      parser_->body_limit(owner_.routes.max_body_limit(owner_.options.default_body_limit));
      if (first_ || buffer_.size() > 0) {
        // The first request must arrive whole within read_timeout of the connection opening;
        // a pipelined one has begun already. One deadline for request line, headers and body:
        // a client dribbling bytes cannot stretch it.
        first_ = false;
        stream_.expires_after(owner_.options.read_timeout);
        return read_request();
      }
      // Keep-alive: wait up to idle_timeout for the next request's first byte, then give the
      // whole request read_timeout from there.
      stream_.expires_after(owner_.options.idle_timeout);
      stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        if (ec) return self->close();
        self->buffer_.commit(n);
        self->stream_.expires_after(self->owner_.options.read_timeout);
        self->read_request();
      });
    }

    void read_request() {
      bhttp::async_read_header(stream_, buffer_, *parser_,
                               [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                 self->on_header(ec);
                               });
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
        if (const auto length = parser_->content_length(); length && *length > limit)
          return reject_too_large();
        parser_->body_limit(limit);
      }
      bhttp::async_read(stream_, buffer_, *parser_,
                        [self = shared_from_this()](beast::error_code ec2, std::size_t) {
                          self->on_read(ec2);
                        });
    }

    void on_read(beast::error_code ec) {
      if (ec) return fail(ec);
      stream_.expires_never();
      auto msg = parser_->release();
      keep_alive_ = msg.keep_alive();
      request req;
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      req.path = path_;
      if (const auto q = req.target.find('?'); q != std::string::npos) req.query = req.target.substr(q + 1);
      for (const auto& field : msg) req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      req.body = std::move(msg.body());
      const auto given = req.header("X-Request-Id");
      req.request_id = given && valid_request_id(*given) ? std::string(*given) : new_request_id();
      request_id_ = req.request_id;
      method_ = req.method;
      const auto& unlimited = owner_.options.unlimited_paths;
      if (std::find(unlimited.begin(), unlimited.end(), path_) == unlimited.end()) {
        // Refused at once rather than queued: a queue would only turn overload into latency
        // and memory. The connection stays usable.
        if (!owner_.admit())
          return refuse_overloaded("in_flight", "too many requests in flight; try again");
        admitted_ = true;
      }
      owner_.request_started();
      handling_ = true;
      owner_.routes.dispatch(req, match_, [self = shared_from_this()](response r) {
        net::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable {
          self->write(std::move(r));
        });
      });
    }

    void refuse_overloaded(const char* limit, std::string_view detail) {
      metrics().refused.Add({{"limit", limit}}).Increment();
      if (started_ == clock_type::time_point{}) started_ = clock_type::now();
      owner_.request_started();
      handling_ = true;
      response r = problem(503, "overloaded", "Overloaded", detail);
      r.headers.emplace_back("Retry-After", std::to_string(owner_.options.retry_after.count()));
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
      if (ec == bhttp::error::body_limit)
        return reject_too_large();
      if (ec == bhttp::error::header_limit)
        return reject(431, "headers-too-large", "Request header fields too large", "the request headers exceed 8 KiB");
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() && ec != bhttp::error::end_of_stream &&
          ec != bhttp::error::partial_message) {
        match_ = {};
        return reject(400, "bad-request", "Bad request", "malformed HTTP: " + ec.message());
      }
      close();
    }

    void write(response r) {
      auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(r.status), 11);
      res->set(bhttp::field::server, "splitvote");
      res->set(bhttp::field::content_type, r.content_type);
      res->set("X-Request-Id", request_id_.empty() ? new_request_id() : request_id_);
      for (const auto& [k, v] : r.headers) res->set(k, v);
      res->body() = std::move(r.body);
      const bool keep = keep_alive_ && !owner_.draining.load();
      res->keep_alive(keep);
      res->prepare_payload();
      status_ = r.status;
      stream_.expires_after(owner_.options.write_timeout);
      bhttp::async_write(stream_, *res, [self = shared_from_this(), res, keep](beast::error_code ec, std::size_t) {
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
      started_ = {};
      if (ec) return close();
      if (!keep) return linger_close();
      read_header();
    }

    void close() {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.close();
    }

    /// Closes after a last response without losing it: closing a socket with unread input
    /// sends a reset, and the client's stack may then drop the response it has not read.
    /// So: send FIN, discard what the client still sends (for at most a second), then close.
    void linger_close() {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream_.expires_after(std::chrono::seconds(1));
      discard();
    }
    void discard() {
      stream_.async_read_some(net::buffer(discard_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->close();
        self->discard();
      });
    }

    impl& owner_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    router::match match_;
    std::string path_, request_id_, method_;
    clock_type::time_point started_{};
    unsigned status_ = 0;
    std::array<char, 1024> discard_{};
    bool keep_alive_ = false;
    bool handling_ = false;
    bool admitted_ = false;  // counts against max_in_flight
    bool first_ = true;
    bool counted_ = false;
  };

  void accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
        observability::log_warn("accept_failed", {{"error", ec.message()}});
      } else if (options.max_connections != 0 && connections.load() >= options.max_connections) {
        // Only this loop adds connections, so the check and the increment below cannot race.
        std::make_shared<session>(*this, std::move(socket), false)->refuse();
      } else {
        ++connections;
        metrics().connections.Increment();
        std::make_shared<session>(*this, std::move(socket), true)->start();
      }
      if (!draining.load()) accept();
    });
  }
};

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

}  // namespace splitvote::http
