// splitvote-ingest: the REST API. Wires config, PostgreSQL, Kafka and HTTP; the logic is in src/.
#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/catalog/schema.hpp"
#include "splitvote/config/settings.hpp"
#include "splitvote/http/server.hpp"
#include "splitvote/ingest/api.hpp"
#include "splitvote/ingest/web_files.hpp"
#include "splitvote/kafka/producer.hpp"
#include "splitvote/observability/log.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/pollbook/schema.hpp"
#include "splitvote/runtime/signals.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <utility>

using namespace splitvote;

namespace {
std::vector<config::property> properties() {
  return {
      {"http.address", "address to listen on", "127.0.0.1"},
      {"http.port", "port to listen on", "8080"},
      {"http.threads", "I/O threads", "2"},
      {"http.worker_threads",
       "threads that run the routes' PostgreSQL and Kafka work (the I/O threads never wait on either)", "8"},
      {"http.request_timeout_ms",
       "a request not answered within this gets 503 + Retry-After (a vote: unless it reached Kafka; then "
       "kafka.delivery_timeout_ms applies)",
       "5000"},
      {"http.max_in_flight", "requests handled at once; more get 503 + Retry-After (0: no limit; probes exempt)",
       "1000"},
      {"http.max_connections", "open connections; more are answered 503 and closed (0: no limit)", "1000"},
      {"http.read_timeout_ms", "a whole request (line, headers, body) must arrive within this", "10000"},
      {"http.idle_timeout_ms", "a keep-alive connection may wait this long for its next request", "30000"},
      {"http.write_timeout_ms", "a response must be taken by the client within this", "10000"},
      {"http.max_connections_per_address",
       "open connections from one client address; more are answered 429 and closed (0: no limit; trusted proxies "
       "exempt)",
       "0"},
      {"http.trusted_proxies", "addresses or networks of proxies whose X-Forwarded-For names the client (list)", ""},
      {"http.rate_limit.client_per_second",
       "requests per second per client address, all routes but probes and /metrics; more get 429 + Retry-After (0: no "
       "limit)",
       "0"},
      {"http.rate_limit.client_burst", "requests one client address may make at once (0: twice client_per_second)",
       "0"},
      {"http.rate_limit.poll_votes_per_second",
       "votes per second per poll (POST /v1/polls/{id}/votes); more get 429 + Retry-After (0: no limit)", "0"},
      {"http.rate_limit.poll_votes_burst", "votes one poll may take at once (0: twice poll_votes_per_second)", "0"},
      {"http.rate_limit.creations_per_minute",
       "polls one client address may create per minute (POST /v1/polls); more get 429 + Retry-After (0: no limit)",
       "0"},
      {"http.rate_limit.creations_burst", "polls one client address may create at once (0: creations_per_minute)", "0"},
      {"http.rate_limit.max_keys", "buckets kept per limit (client addresses, polls); the least recently used go first",
       "100000"},
      {"http.cors.allowed_origins",
       "browser origins (https://host[:port]) that may call the API (list; empty: no CORS)", ""},
      {"http.cors.max_age_s", "how long a browser may cache a preflight's answer", "600"},
      {"http.tls.certificate_chain", "PEM certificate chain: serve HTTPS (with http.tls.private_key; reread on SIGHUP)",
       ""},
      {"http.tls.private_key", "PEM private key of the certificate", ""},
      {"catalog.dsn", "PostgreSQL DSN of the catalog schema", std::nullopt, true},
      {"pollbook.dsn", "PostgreSQL DSN of the pollbook (read: participation)", std::nullopt, true},
      {"ballotbox.dsn", "PostgreSQL DSN of the ballotbox (read: counts)", std::nullopt, true},
      {"db.pool_size", "connections per database", "8"},
      {"db.statement_timeout_ms", "the server cancels any statement of this service that runs longer", "3000"},
      {"kafka.bootstrap_servers", "Kafka bootstrap servers", std::nullopt},
      {"kafka.topic", "votes topic", "splitvote.votes"},
      {"kafka.pollbook_group_id", "the pollbook's consumer group (its committed positions give the lag in results)",
       "splitvote-pollbook"},
      {"kafka.ballotbox_group_id", "the ballotbox's consumer group", "splitvote-ballotbox"},
      {"kafka.delivery_timeout_ms",
       "answer 503 outcome-unknown if Kafka has not acknowledged within this (the producer keeps trying: the vote may "
       "still count)",
       "5000"},
      {"kafka.queue_max_messages",
       "producer queue bound in messages (queue.buffering.max.messages); a vote beyond it gets 503", "10000"},
      {"kafka.queue_max_kbytes", "producer queue bound in KiB (queue.buffering.max.kbytes); a vote beyond it gets 503",
       "16384"},
      {"privacy.actor_secret", "server secret for actor keys (HMAC-SHA-256)", std::nullopt, true},
      {"auth.token_secret", "key of the admin and voter token hashes (HMAC-SHA-256); empty: the actor secret", "",
       true},
      {"auth.jwt.algorithms",
       "accepted JWS algorithms of voters' JWTs, pinned (list of RS256, HS256; empty: no jwt polls)", ""},
      {"auth.jwt.jwks_file", "JWKS file with the identity provider's RS256 public keys", ""},
      {"auth.jwt.hs256_secret", "HS256 shared secret (at least 32 bytes)", "", true},
      {"auth.jwt.issuer", "the iss every JWT must carry", ""},
      {"auth.jwt.audience", "the aud every JWT must name", ""},
      {"auth.jwt.actor_claim", "the claim holding the actor id", "sub"},
      {"auth.jwt.leeway_s", "clock skew allowed for exp and nbf", "60"},
      {"auth.jwt.max_token_bytes",
       "longer bearer JWTs are refused unread (at most 7168: the 8 KiB header limit holds the rest)", "6144"},
      {"privacy.cover_idle_ms", "send a cover envelope for a poll idle this long (0: no cover traffic)", "0"},
      {"privacy.shred_after_ms", "destroy a poll's key this long after it closes (0: never)", "604800000"},
      {"privacy.release_interval_ms",
       "the wait between a poll's first and second noisy release; each later wait doubles", "60000"},
      {"privacy.final_release_after_ms",
       "a closed poll's final release (kept in its budget) waits this long after the close: longer than the consumers' "
       "mixing.max_wait_ms",
       "330000"},
      {"seal.pollbook_public_key", "file with the pollbook's public key: seal actor halves to it", ""},
      {"seal.ballotbox_public_key", "file with the ballotbox's public key: seal ballot halves to it", ""},
      {"shutdown.drain_timeout_ms", "how long SIGTERM waits for requests in flight", "15000"},
      {"web.root",
       "directory of the web UI (index.html, assets/); empty: ../share/splitvote/web next to the binary, else the "
       "source tree's; 'off': no UI",
       ""},
      {"log.level", "trace, debug, info, warn, error", "info"},
  };
}
/// Where the UI comes from: `web.root` when set (it must hold index.html), else the default
/// location if there is one (an image without the UI still serves the API), none for "off".
std::optional<std::filesystem::path> web_root(const std::string& setting) {
  if (setting == "off") return std::nullopt;
  if (!setting.empty()) {
    if (!std::filesystem::is_regular_file(std::filesystem::path(setting) / "index.html"))
      throw config::error("web.root: no index.html in " + setting);
    return std::filesystem::path(setting);
  }
  auto found = ingest::web_files::default_root();
  if (!found)
    observability::log_warn("web_ui_missing",
                            {{"detail", "no web UI found next to the binary or in the source tree; set web.root"}});
  return found;
}

/// Rate and connection limits, proxies, CORS and TLS of the HTTP server (docs/operations.md).
void configure_abuse_limits(const config::settings& cfg, http::server_options& o) {
  const auto rate = [&](const std::string& rate_key, const std::string& burst_key, double per,
                        double burst_default_factor) {
    const double r = static_cast<double>(cfg.integer(rate_key, 0, 100000000));
    const double b = static_cast<double>(cfg.integer(burst_key, 0, 100000000));
    return http::rate_limit{r / per, b > 0 ? b : r * burst_default_factor};
  };
  o.max_connections_per_address = static_cast<std::size_t>(cfg.integer("http.max_connections_per_address", 0, 1000000));
  o.trusted_proxies = cfg.list("http.trusted_proxies");
  for (const auto& p : o.trusted_proxies)
    if (!http::is_network(p))
      throw config::error("http.trusted_proxies: '" + p + "' is not an address or a network (10.0.0.0/8, ::1)");
  o.client_rate = rate("http.rate_limit.client_per_second", "http.rate_limit.client_burst", 1, 2);
  o.route_rates = {
      {"POST", "/v1/polls/{id}/votes", http::server_options::route_rate::key_by::first_param,
       rate("http.rate_limit.poll_votes_per_second", "http.rate_limit.poll_votes_burst", 1, 2), "poll_votes"},
      {"POST", "/v1/polls", http::server_options::route_rate::key_by::client_address,
       rate("http.rate_limit.creations_per_minute", "http.rate_limit.creations_burst", 60, 1), "poll_creations"},
  };
  o.rate_limit_max_keys = static_cast<std::size_t>(cfg.integer("http.rate_limit.max_keys", 16, 100000000));
  o.cors_origins = cfg.list("http.cors.allowed_origins");
  for (const auto& origin : o.cors_origins)
    if (!(origin.starts_with("https://") || origin.starts_with("http://")) || origin.find('*') != std::string::npos)
      throw config::error("http.cors.allowed_origins: '" + origin +
                          "' is not an origin like https://app.example (no wildcards)");
  o.cors_max_age = std::chrono::seconds(cfg.integer("http.cors.max_age_s", 0, 86400));
  const auto& cert = cfg.str("http.tls.certificate_chain");
  const auto& key = cfg.str("http.tls.private_key");
  if (cert.empty() != key.empty())
    throw config::error("http.tls: set both certificate_chain and private_key, or neither");
  if (!cert.empty()) o.tls = http::server_options::tls_files{cert, key};
}

/// The JWT verifier of `jwt` polls, or none when auth.jwt.algorithms is empty.
std::shared_ptr<const auth::jwt_verifier> jwt_verifier(const config::settings& cfg) {
  auth::jwt_settings js;
  js.algorithms = cfg.list("auth.jwt.algorithms");
  if (js.algorithms.empty()) return nullptr;
  if (const auto& path = cfg.str("auth.jwt.jwks_file"); !path.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec) || std::filesystem::file_size(path, ec) > 1024 * 1024)
      throw config::error("auth.jwt.jwks_file: cannot read " + path + " (a regular file of at most 1 MiB)");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config::error("auth.jwt.jwks_file: cannot read " + path);
    js.jwks_json.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  js.hs256_secret = cfg.str("auth.jwt.hs256_secret");
  js.issuer = cfg.str("auth.jwt.issuer");
  js.audience = cfg.str("auth.jwt.audience");
  js.actor_claim = cfg.str("auth.jwt.actor_claim");
  js.leeway = std::chrono::seconds(cfg.integer("auth.jwt.leeway_s", 0, 3600));
  js.max_token_bytes = static_cast<std::size_t>(cfg.integer("auth.jwt.max_token_bytes", 256, 7168));
  try {
    return std::make_shared<const auth::jwt_verifier>(std::move(js));
  } catch (const std::exception& e) {  // invalid_argument for settings; anything else from a bad JWKS
    throw config::error(std::string("auth.jwt: ") + e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  runtime::block_stop_signals(/*hangup=*/true);
  try {
    const auto cfg = config::settings::load(properties(), config::config_path_from(argc, argv), {"kafka.rdkafka."});
    observability::init_logging("ingest", cfg.str("log.level"));
    observability::log_info("config", {{"effective", cfg.describe()}});
    if (cfg.str("privacy.actor_secret").size() < 16)
      throw config::error("privacy.actor_secret: must be at least 16 bytes");
    if (!cfg.str("auth.token_secret").empty() && cfg.str("auth.token_secret").size() < 16)
      throw config::error("auth.token_secret: must be at least 16 bytes (or empty: the actor secret)");
    // Read (and its errors reported, exit 2) before anything connects.
    http::server_options http_options;
    http_options.address = cfg.str("http.address");
    http_options.port = static_cast<unsigned short>(cfg.integer("http.port", 0, 65535));
    http_options.threads = static_cast<int>(cfg.integer("http.threads", 1, 64));
    http_options.max_in_flight = static_cast<std::size_t>(cfg.integer("http.max_in_flight", 0, 1000000));
    http_options.max_connections = static_cast<std::size_t>(cfg.integer("http.max_connections", 0, 1000000));
    http_options.read_timeout = std::chrono::milliseconds(cfg.integer("http.read_timeout_ms", 1, 86400000));
    http_options.idle_timeout = std::chrono::milliseconds(cfg.integer("http.idle_timeout_ms", 1, 86400000));
    http_options.write_timeout = std::chrono::milliseconds(cfg.integer("http.write_timeout_ms", 1, 86400000));
    // Probes and metrics answer under overload: an orchestrator must not restart a busy pod.
    http_options.unlimited_paths = {"/livez", "/readyz", "/startupz", "/metrics"};
    configure_abuse_limits(cfg, http_options);
    const auto jwt = jwt_verifier(cfg);
    if (jwt)
      observability::log_info("jwt_voters",
                              {{"algorithms", cfg.str("auth.jwt.algorithms")}, {"issuer", cfg.str("auth.jwt.issuer")}});

    const auto pool_size = static_cast<std::size_t>(cfg.integer("db.pool_size", 1, 256));
    const pg::session_limits limits{std::chrono::milliseconds(cfg.integer("db.statement_timeout_ms", 1, 86400000))};
    pg::pool catalog(cfg.str("catalog.dsn"), pool_size, limits);
    pg::pool pollbook(cfg.str("pollbook.dsn"), pool_size, limits);
    pg::pool ballotbox(cfg.str("ballotbox.dsn"), pool_size, limits);
    pg::require_schema_version(*catalog.acquire(), catalog::schema_name, catalog::current_version());
    pg::require_schema_version(*pollbook.acquire(), pollbook::schema_name, pollbook::current_version());
    pg::require_schema_version(*ballotbox.acquire(), ballotbox::schema_name, ballotbox::current_version());

    auto kafka_settings = cfg.with_prefix("kafka.rdkafka.");
    kafka_settings["bootstrap.servers"] = cfg.str("kafka.bootstrap_servers");
    // No local message timeout (0: librdkafka retries until the broker takes it or we stop):
    // the answer deadline below says "outcome unknown" instead (see api::vote).
    kafka_settings["message.timeout.ms"] = std::to_string(0);  // (a literal trips GCC 12 -Wrestrict)
    /// librdkafka's own bounds (100,000 messages, 1 GiB) would let a stalled cluster grow the
    /// queue to a gigabyte before produce() says QUEUE_FULL: bound it to what we can afford.
    kafka_settings["queue.buffering.max.messages"] =
        std::to_string(cfg.integer("kafka.queue_max_messages", 1, 10000000));
    kafka_settings["queue.buffering.max.kbytes"] = std::to_string(cfg.integer("kafka.queue_max_kbytes", 1, 2147483647));
    // The router and the server outlive the producer and the api: their callbacks and timers
    // hold answers to connections, and a connection must go before its io_context does.
    http::router routes;
    http::server server(http_options, routes);
    kafka::producer producer(kafka_settings);

    ingest::api_options api_options;
    api_options.topic = cfg.str("kafka.topic");
    api_options.pollbook_group = cfg.str("kafka.pollbook_group_id");
    api_options.ballotbox_group = cfg.str("kafka.ballotbox_group_id");
    api_options.answer_deadline = cfg.millis("kafka.delivery_timeout_ms");
    api_options.request_timeout = std::chrono::milliseconds(cfg.integer("http.request_timeout_ms", 1, 86400000));
    // Kafka's metadata for a result's lag gets half the request's time (at most 1 s): a stalled
    // broker then costs the lag (null), not the whole answer.
    api_options.kafka_read_budget = std::min(std::chrono::milliseconds(1000), api_options.request_timeout / 2);
    api_options.worker_threads = static_cast<std::size_t>(cfg.integer("http.worker_threads", 1, 256));
    api_options.actor_secret = cfg.str("privacy.actor_secret");
    api_options.jwt = jwt;
    api_options.token_key =
        cfg.str("auth.token_secret").empty() ? api_options.actor_secret : cfg.str("auth.token_secret");
    api_options.release_interval = cfg.millis("privacy.release_interval_ms");
    api_options.final_release_after = cfg.millis("privacy.final_release_after_ms");
    if (!cfg.str("seal.pollbook_public_key").empty() && !cfg.str("seal.ballotbox_public_key").empty()) {
      api_options.pollbook_key = envelope::load_public_key(cfg.str("seal.pollbook_public_key"));
      api_options.ballotbox_key = envelope::load_public_key(cfg.str("seal.ballotbox_public_key"));
    } else {
      observability::log_warn("unsealed",
                              {{"detail", "seal.*_public_key not set: envelope halves travel in the clear"}});
    }
    ingest::api api(api_options, catalog, pollbook, ballotbox, producer);
    api.register_routes(routes);
    if (const auto web = web_root(cfg.str("web.root"))) {
      const auto files = ingest::web_files::load(*web);
      files.register_routes(routes);
      observability::log_info("web_ui", {{"root", web->string()}, {"files", files.size()}});
    }
    server.start();
    api.mark_started();
    observability::log_info("listening",
                            {{"address", cfg.str("http.address")}, {"port", server.port()}, {"tls", server.tls()}});

    // Readiness: the dependencies are checked here, /readyz only reads the outcome.
    auto readiness = runtime::every(std::chrono::milliseconds(1000), [&api] { api.check_dependencies(); });
    // Crypto-shredding, checked every minute; cover traffic for idle polls.
    const auto shred_after = std::chrono::duration_cast<std::chrono::seconds>(cfg.millis("privacy.shred_after_ms"));
    auto shredder = runtime::every(
        shred_after.count() > 0 ? std::chrono::minutes(1) : std::chrono::minutes(0),
        [&api, shred_after] { api.shred_expired_keys(shred_after); },
        [](const std::exception& e) {
          observability::log_warn("shred_failed", {{"error", e.what()}});
        });
    // Reserved voters are forgotten once the pollbook holds their votes: memory follows its lag.
    // The readiness probe reports the database; a failure is logged once per outage.
    auto forget = runtime::every(
        std::chrono::milliseconds(500), [&api] { api.forget_stored_voters(); },
        [](const std::exception& e) {
          observability::log_warn("forget_stored_failed", {{"error", e.what()}});
        });
    // The sealers' shared keys are wiped once their period (10 s) is over, busy or not.
    auto seal_keys = runtime::every(std::chrono::milliseconds(1000), [&api] { api.forget_expired_seal_keys(); });
    const auto cover_idle = cfg.millis("privacy.cover_idle_ms");
    auto cover = runtime::every(
        cover_idle, [&api, cover_idle] { api.send_cover_envelopes(cover_idle); },
        [](const std::exception& e) {
          observability::log_warn("cover_failed", {{"error", e.what()}});
        });

    // SIGHUP: reread the TLS certificate and key (new connections get them).
    const int sig = runtime::wait_for_stop_signal([&server] {
      if (!server.tls()) return observability::log_info("sighup_ignored", {{"detail", "no http.tls configured"}});
      try {
        server.reload_tls();
        observability::log_info("tls_reloaded", {});
      } catch (const std::exception& e) {
        observability::log_error("tls_reload_failed",
                                 {{"error", e.what()}, {"detail", "the previous certificate stays"}});
      }
    });
    shredder.request_stop();
    cover.request_stop();
    readiness.request_stop();
    forget.request_stop();
    observability::log_info("draining", {{"signal", sig}});
    api.begin_shutdown();
    server.stop_accepting();
    const bool idle = server.wait_idle(cfg.millis("shutdown.drain_timeout_ms"));
    const bool flushed = producer.flush(std::chrono::seconds(5));
    server.stop();
    observability::log_info("stopped", {{"idle", idle}, {"flushed", flushed}});
    return 0;
  } catch (const config::error& e) {
    std::cerr << "splitvote-ingest: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "splitvote-ingest: " << e.what() << "\n";
    return 1;
  }
}
