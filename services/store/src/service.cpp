#include "splitvote/store/service.hpp"

#include "splitvote/config/settings.hpp"
#include "splitvote/config/shared_keys.hpp"
#include "splitvote/envelope/seal.hpp"
#include "splitvote/http/message.hpp"
#include "splitvote/http/router.hpp"
#include "splitvote/http/server.hpp"
#include "splitvote/observability/log.hpp"
#include "splitvote/observability/metrics.hpp"
#include "splitvote/pg/migrations.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/runtime/build_info.hpp"
#include "splitvote/runtime/program.hpp"
#include "splitvote/runtime/signals.hpp"

#include <csignal>
#include <optional>
#include <thread>

namespace splitvote::store {

namespace {

/// /livez: the loop goes round (a wait for the database counts); /readyz: in the group with
/// its partitions, the database answering, not stopping; /metrics: the process registry.
void add_probe_routes(http::router& r, const consumer::batch_consumer& loop) {
  using http::params;
  using http::request;
  using http::respond_fn;
  r.add("GET", "/livez", [&loop](const request&, const params&, respond_fn f) {
    if (loop.status().since_progress < std::chrono::seconds(60)) return f(http::json(200, {{"status", "live"}}));
    f(http::problem(503, "stalled", "Stalled", "the consumer loop has not gone round for a minute"));
  });
  r.add("GET", "/readyz", [&loop](const request&, const params&, respond_fn f) {
    const auto h = loop.status();
    if (h.joined && h.database_ok && !h.stopping) return f(http::json(200, {{"status", "ready"}}));
    f(http::to_response(http::problem_error(503, "not-ready", "Not ready",
                                            h.stopping  ? "stopping"
                                            : !h.joined ? "not yet in the consumer group"
                                                        : "the database is unreachable")
                            .retry_after()));
  });
  r.add("GET", "/metrics", [](const request&, const params&, respond_fn f) {
    http::response res;
    res.content_type = "text/plain; version=0.0.4";
    res.body = observability::render_metrics();
    f(std::move(res));
  });
}

/// The store's settings as declared (docs/operations.md): shared keys from config/shared_keys.hpp.
std::vector<config::property> properties(const service_spec& spec) {
  using config::integer;
  using config::millis;
  using config::text;
  std::vector<config::property> p = {
      config::secret("db.dsn", "PostgreSQL DSN of the " + spec.name + " schema"),
      config::statement_timeout(
          "the server cancels any statement of this service that runs longer (a batch's insert, a scrub)", 30000),
      text("kafka.group_id", "consumer group", "splitvote-" + spec.name),
      integer("mixing.min_real",
              "a poll's envelopes are written once k of its votes wait, k drawn in [min_real, max_real] (1 and 1: "
              "mixing off)",
              5, 1, 10000),
      integer("mixing.max_real", "largest k (see mixing.min_real)", 15, 1, 10000),
      millis("mixing.max_wait_ms",
             "a poll with fewer than k votes waiting is written after a wait drawn in [max_wait/2, max_wait]", 300000),
      integer("mixing.retain_percent",
              "when k votes wait, each waiting envelope stays for the next batch with this chance (0: all written)", 50,
              0, 90),
      integer("batch.min", "smallest randomized transaction size (envelopes due for writing)", 1, 1, 100000),
      integer("batch.max", "largest randomized transaction size (envelopes due for writing)", 500, 1, 100000),
      millis("batch.max_delay_ms", "write due envelopes at the latest this long after they became due", 200),
      millis("kafka.commit_interval_ms",
             "how often positions are also committed to Kafka (for lag tooling; never per batch)", 10000),
      millis("shutdown.drain_timeout_ms", "on SIGTERM, read to the end of the topic for at most this", 20000),
      config::log_level(),
      millis("scrub.interval_ms", "rewrite the store's tables in random order this often (0: never)", 3600000),
      text("seal.secret_key",
           "file(s) with this consumer's secret key (64 hex digits), comma-separated during a rotation", ""),
  };
  for (auto group :
       {config::kafka_properties(), config::http_listen("address of the probes and /metrics",
                                                        "port of /livez, /readyz and /metrics (0: no HTTP)", 0)})
    p.insert(p.end(), group.begin(), group.end());
  return p;
}

/// The batch loop's options; a config::error for settings that contradict each other.
consumer::options read_options(const service_spec& spec, const config::settings& cfg) {
  consumer::options opts;
  opts.name = spec.name;
  opts.dsn = cfg.str("db.dsn");
  opts.limits = pg::session_limits{cfg.millis("db.statement_timeout_ms")};
  opts.schema = spec.schema;
  opts.topic = cfg.str("kafka.topic");
  opts.kafka = config::rdkafka_settings(cfg);
  opts.kafka["group.id"] = cfg.str("kafka.group_id");
  opts.kafka.try_emplace("session.timeout.ms", "6000");
  opts.kafka.try_emplace("heartbeat.interval.ms", "500");
  // A quiet topic should not hold a vote back for librdkafka's default 500 ms fetch wait.
  opts.kafka.try_emplace("fetch.wait.max.ms", "50");
  opts.mixing.min_real = cfg.integer<std::size_t>("mixing.min_real");
  opts.mixing.max_real = cfg.integer<std::size_t>("mixing.max_real");
  opts.mixing.max_wait = cfg.millis("mixing.max_wait_ms");
  opts.mixing.retain = static_cast<double>(cfg.integer("mixing.retain_percent")) / 100;
  if (opts.mixing.max_real < opts.mixing.min_real)
    throw config::error("mixing.max_real must be at least mixing.min_real");
  opts.kafka_commit_interval = cfg.millis("kafka.commit_interval_ms");
  opts.min_batch = cfg.integer<std::size_t>("batch.min");
  opts.max_batch = cfg.integer<std::size_t>("batch.max");
  opts.max_delay = cfg.millis("batch.max_delay_ms");
  opts.drain_timeout = cfg.millis("shutdown.drain_timeout_ms");
  opts.scrub_tables = spec.scrubbed_tables;
  opts.scrub_interval = cfg.millis("scrub.interval_ms");
  if (opts.max_batch < opts.min_batch) throw config::error("batch.max must be at least batch.min");
  return opts;
}

/// The loop until SIGINT/SIGTERM.
int serve(const service_spec& spec, const sink_factory& make_sink, const config::settings& cfg,
          consumer::options opts) {
  {
    auto c = pg::connect(opts.dsn, opts.limits);
    pg::require_schema_version(*c, spec.schema, spec.schema_version);
  }
  if (cfg.str("seal.secret_key").empty())
    observability::log_warn("no_secret_key", {{"detail",
                                               "seal.secret_key is not set: sealed envelopes will be skipped"
                                               " and stored positions are kept unsealed"}});
  // Stored positions are sealed under a key derived from the consumer's own (the current
  // one seals; older ones of a rotation still open what they sealed).
  for (const auto& k : envelope::load_keypairs(cfg.str("seal.secret_key")))
    opts.position_keys.push_back(consumer::derive_position_key(k.sk));
  const auto s = make_sink(cfg.str("seal.secret_key"));
  consumer::batch_consumer loop(opts, *s);
  http::router routes;  // before the server that dispatches to it
  std::optional<http::server> probes;
  if (const auto port = cfg.integer<unsigned short>("http.port"); port > 0) {
    add_probe_routes(routes, loop);
    http::server_options o;
    o.address = cfg.str("http.address");
    o.port = port;
    o.threads = 1;
    probes.emplace(o, routes);
    probes->start();
    observability::log_info("listening", {{"address", o.address}, {"port", probes->port()}});
  }
  std::atomic<bool> stop{false};
  std::thread signals([&stop] {
    const int sig = runtime::wait_for_stop_signal();
    observability::log_info("stop_requested", {{"signal", sig}});
    stop = true;
  });
  try {
    loop.run(stop);
  } catch (...) {
    // Say what ended the loop before anything is torn down (a crash in teardown hid it once).
    try {
      throw;
    } catch (const std::exception& e) {
      observability::log_error("loop_failed", {{"error", e.what()}});
    } catch (...) {
      observability::log_error("loop_failed", {{"error", "unknown exception"}});
    }
    // Wake the signal thread so it can be joined, then report the failure.
    stop = true;
    pthread_kill(signals.native_handle(), SIGTERM);
    signals.join();
    throw;
  }
  signals.join();
  return 0;
}

}  // namespace

int run_service(const service_spec& spec, const sink_factory& make_sink, int argc, char** argv) {
  runtime::block_stop_signals();
  return runtime::run_main("splitvote-" + spec.name, [&] {
    // Every setting is read and checked (a problem: exit 2) before anything is logged or connects.
    const auto cfg =
        config::settings::load(properties(spec), config::config_path_from(argc, argv), config::kafka_passthrough());
    auto opts = read_options(spec, cfg);
    observability::init_logging(spec.name, cfg.str("log.level"));
    observability::log_info(
        "config",
        {{"effective", cfg.describe()}, {"version", runtime::build().version}, {"commit", runtime::build().commit}});
    try {
      return serve(spec, make_sink, cfg, std::move(opts));
    } catch (const config::error&) {
      throw;
    } catch (const std::exception& e) {
      observability::log_error("fatal", {{"error", e.what()}});  // the JSON log says it too
      throw;
    }
  });
}

}  // namespace splitvote::store
