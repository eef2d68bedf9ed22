#include "splitvote/http/server.hpp"

#include "splitvote/observability/log.hpp"
#include "splitvote/observability/metrics.hpp"
#include "splitvote/random/random_source.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

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
  net::io_context ioc{options.threads};
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

  class session : public std::enable_shared_from_this<session> {
  public:
    session(impl& owner, tcp::socket socket) : owner_(owner), stream_(std::move(socket)) {}

    void start() {
      net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
    }

  private:
    void read_header() {
      parser_.emplace();
      parser_->header_limit(static_cast<std::uint32_t>(owner_.options.header_limit));
      // Until the route is known, allow the largest body any route takes; on_header narrows it.
      parser_->body_limit(owner_.routes.max_body_limit(owner_.options.default_body_limit));
      // The first request of a connection and each later one get the idle timeout until
      // their first byte would be hard to tell apart; a whole request within read_timeout
      // after an idle keep-alive wait is what a slow client cannot stretch.
      stream_.expires_after(first_ ? owner_.options.read_timeout : owner_.options.idle_timeout);
      first_ = false;
      bhttp::async_read_header(stream_, buffer_, *parser_,
                               [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                 self->on_header(ec);
                               });
    }

    void on_header(beast::error_code ec) {
      if (ec) return fail(ec);
      started_ = clock_type::now();
      const auto& h = parser_->get();
      const std::string target(h.target());
      const auto q = target.find('?');
      path_ = target.substr(0, q);
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
      stream_.expires_after(owner_.options.read_timeout);
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
      owner_.request_started();
      handling_ = true;
      owner_.routes.dispatch(req, match_, [self = shared_from_this()](response r) {
        net::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable {
          self->write(std::move(r));
        });
      });
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
      stream_.expires_after(owner_.options.read_timeout);
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
      if (handling_) {
        handling_ = false;
        owner_.request_finished();
      }
      request_id_.clear();
      method_.clear();
      started_ = {};
      if (ec || !keep) return close();
      read_header();
    }

    void close() {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.close();
    }

    impl& owner_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    router::match match_;
    std::string path_, request_id_, method_;
    clock_type::time_point started_{};
    unsigned status_ = 0;
    bool keep_alive_ = false;
    bool handling_ = false;
    bool first_ = true;
  };

  void accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
        observability::log_warn("accept_failed", {{"error", ec.message()}});
      } else {
        std::make_shared<session>(*this, std::move(socket))->start();
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
  i.ioc.stop();
  for (auto& t : i.threads)
    if (t.joinable()) t.join();
  i.threads.clear();
}

}  // namespace splitvote::http
