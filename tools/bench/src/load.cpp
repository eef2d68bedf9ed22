#include "splitvote/bench/load.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <thread>

namespace splitvote::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

/// What all connections share: the schedule (one counter hands out send slots and actor
/// numbers), and the counters the progress line reads.
struct run_state {
  explicit run_state(const load_options& o) : options(o) {}
  const load_options& options;
  tcp::resolver::results_type endpoints;
  clock_type::time_point start;
  clock_type::time_point warmup_end;
  clock_type::time_point end;
  std::chrono::nanoseconds interval{0};  // open loop: between intended send times
  std::atomic<std::uint64_t> next_slot{0};
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> interval_max_us{0};
  std::atomic<int> alive{0};
};

/// Each connection keeps its own figures (no sharing on the hot path); merged at the end.
struct connection_figures {
  histogram latency;
  std::map<int, std::uint64_t> statuses;
  std::vector<std::uint64_t> accepted_per_poll;
  std::uint64_t measured = 0;
  std::uint64_t accepted_total = 0;
  std::uint64_t reconnects = 0;
  clock_type::time_point last_answer{};
};

void note_max(std::atomic<std::uint64_t>& max, std::uint64_t value) {
  auto seen = max.load(std::memory_order_relaxed);
  while (value > seen && !max.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

std::string vote_body(const std::string& actor, const std::string& choice) {
  // Actor and choice come from our own options: plain characters, no escaping needed.
  return R"({"actor_id":")" + actor + R"(","choice":")" + choice + R"("})";
}

asio::awaitable<void> run_connection(run_state& run, connection_figures& fig) {
  const auto& o = run.options;
  auto executor = co_await asio::this_coro::executor;
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  asio::steady_timer timer(executor);
  for (;;) {
    const std::uint64_t slot = run.next_slot.fetch_add(1, std::memory_order_relaxed);
    clock_type::time_point intended;
    if (o.mode == loop_mode::open) {
      intended = run.start + run.interval * static_cast<std::int64_t>(slot);
      if (intended >= run.end) break;
      if (intended > clock_type::now()) {
        timer.expires_at(intended);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      }
    } else if (clock_type::now() >= run.end) {
      break;
    }
    if (!stream) {
      stream = std::make_unique<beast::tcp_stream>(executor);
      stream->expires_after(std::chrono::seconds(10));
      auto [error, endpoint] = co_await stream->async_connect(run.endpoints, asio::as_tuple(asio::use_awaitable));
      if (error) {
        stream.reset();
        ++fig.reconnects;
        timer.expires_after(std::chrono::milliseconds(10));
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      } else {
        stream->socket().set_option(tcp::no_delay(true));
        buffer.clear();
      }
    }
    const auto sent_at = clock_type::now();
    if (o.mode == loop_mode::closed) intended = sent_at;
    const bool measured = intended >= run.warmup_end;
    const std::size_t poll = slot % o.poll_ids.size();
    int status = 0;
    if (stream) {
      http::request<http::string_body> req{http::verb::post, "/v1/polls/" + o.poll_ids[poll] + "/votes", 11};
      req.set(http::field::host, o.host);
      req.set(http::field::content_type, "application/json");
      req.keep_alive(true);
      req.body() = vote_body(o.actor_prefix + "-" + std::to_string(slot), o.choices[slot % o.choices.size()]);
      req.prepare_payload();
      run.sent.fetch_add(1, std::memory_order_relaxed);
      stream->expires_after(std::chrono::seconds(30));
      auto [write_error, written] = co_await http::async_write(*stream, req, asio::as_tuple(asio::use_awaitable));
      http::response<http::string_body> res;
      beast::error_code read_error = write_error;
      if (!write_error) {
        auto [e, n] = co_await http::async_read(*stream, buffer, res, asio::as_tuple(asio::use_awaitable));
        read_error = e;
      }
      if (read_error) {
        stream.reset();
        ++fig.reconnects;
      } else {
        status = static_cast<int>(res.result_int());
        if (!res.keep_alive()) stream.reset();
      }
    }
    const auto answered = clock_type::now();
    const auto us =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(answered - intended).count());
    run.completed.fetch_add(1, std::memory_order_relaxed);
    note_max(run.interval_max_us, us);
    if (status == 202) {
      run.accepted.fetch_add(1, std::memory_order_relaxed);
      ++fig.accepted_total;
      ++fig.accepted_per_poll[poll];
    }
    if (measured) {
      ++fig.measured;
      ++fig.statuses[status];
      // A transport error has no latency worth the name; it shows in the status counts.
      if (status != 0) fig.latency.record(us);
      fig.last_answer = answered;
    }
  }
  if (stream) {
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
}

}  // namespace

load_result run_load(const load_options& o) {
  if (o.poll_ids.empty() || o.choices.empty()) throw std::invalid_argument("run_load: no polls or no choices");
  if (o.connections < 1 || o.threads < 1) throw std::invalid_argument("run_load: connections and threads must be >= 1");
  if (o.mode == loop_mode::open && o.rate <= 0) throw std::invalid_argument("run_load: open loop needs a rate > 0");

  asio::io_context ioc(o.threads);
  tcp::resolver resolver(ioc);
  run_state run(o);
  run.endpoints = resolver.resolve(o.host, o.port);
  if (o.mode == loop_mode::open) run.interval = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / o.rate));
  std::vector<connection_figures> figures(static_cast<std::size_t>(o.connections));
  for (auto& f : figures) f.accepted_per_poll.assign(o.poll_ids.size(), 0);

  run.start = clock_type::now() + std::chrono::milliseconds(20);
  run.warmup_end = run.start + o.warmup;
  run.end = run.warmup_end + o.duration;
  run.alive = o.connections;
  for (auto& f : figures)
    co_spawn(asio::make_strand(ioc), run_connection(run, f), [&run](std::exception_ptr e) {
      --run.alive;
      if (e) std::rethrow_exception(e);  // an unexpected failure of the client is a bug: stop loudly
    });
  std::vector<std::jthread> pool;
  for (int i = 0; i < o.threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });

  load_result result;
  result.started = run.start;
  std::uint64_t last_completed = 0, last_accepted = 0;
  auto tick = run.start;
  while (run.alive > 0) {
    tick += std::chrono::seconds(1);
    while (run.alive > 0 && clock_type::now() < tick) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    second_sample s;
    s.t = std::chrono::duration<double>(clock_type::now() - run.start).count();
    const auto completed = run.completed.load(), accepted = run.accepted.load();
    s.completed = completed - last_completed;
    s.accepted = accepted - last_accepted;
    s.max_us = run.interval_max_us.exchange(0);
    last_completed = completed;
    last_accepted = accepted;
    result.timeline.push_back(s);
    if (o.progress) {
      const auto expected =
          o.mode == loop_mode::open
              ? std::min<double>(s.t, std::chrono::duration<double>(run.end - run.start).count()) * o.rate
              : 0.0;
      std::fprintf(stderr, "%6.1f s %s  sent %llu  answered %llu (%llu/s)  202 %llu/s  non-202 %llu  max %.1f ms%s\n",
                   s.t, s.t <= std::chrono::duration<double>(o.warmup).count() + 0.05 ? "warm-up " : "measure ",
                   static_cast<unsigned long long>(run.sent.load()), static_cast<unsigned long long>(completed),
                   static_cast<unsigned long long>(s.completed), static_cast<unsigned long long>(s.accepted),
                   static_cast<unsigned long long>(completed - accepted), static_cast<double>(s.max_us) / 1000.0,
                   o.mode == loop_mode::open && expected > static_cast<double>(run.sent.load()) + o.rate * 0.1
                       ? "  (behind schedule)"
                       : "");
    }
  }
  for (auto& t : pool) t.join();

  result.sent = run.sent.load();
  result.completed = run.completed.load();
  result.finished = run.warmup_end;
  for (const auto& f : figures) {
    result.latency.merge(f.latency);
    for (const auto& [status, n] : f.statuses) result.statuses[status] += n;
    for (std::size_t p = 0; p < o.poll_ids.size(); ++p)
      if (f.accepted_per_poll[p]) result.accepted_per_poll[o.poll_ids[p]] += f.accepted_per_poll[p];
    result.measured += f.measured;
    result.accepted_total += f.accepted_total;
    result.reconnects += f.reconnects;
    result.finished = std::max(result.finished, f.last_answer);
  }
  // The window runs to the end of the schedule, or later if the last answers came later.
  result.measured_seconds = std::chrono::duration<double>(std::max(result.finished, run.end) - run.warmup_end).count();
  return result;
}

std::string create_poll(const std::string& host, const std::string& port, const std::string& body) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  stream.connect(resolver.resolve(host, port));
  http::request<http::string_body> req{http::verb::post, "/v1/polls", 11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  if (res.result_int() / 100 != 2)
    throw std::runtime_error("POST /v1/polls answered " + std::to_string(res.result_int()) + ": " + res.body());
  const auto json = boost::json::parse(res.body());
  return std::string(json.at("id").as_string());
}

}  // namespace splitvote::bench
