#include "splitvote/ingest/settings.hpp"

#include "splitvote/config/shared_keys.hpp"
#include "splitvote/envelope/seal.hpp"
#include "splitvote/ingest/web_files.hpp"
#include "splitvote/observability/log.hpp"
#include "splitvote/runtime/build_info.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <utility>

namespace splitvote::ingest {
namespace {

/// Listening, connection limits and timeouts of the HTTP server.
void read_server(const config::settings& cfg, http::server_options& o) {
  o.address = cfg.str("http.address");
  o.port = cfg.integer<unsigned short>("http.port");
  o.threads = cfg.integer<int>("http.threads");
  o.max_in_flight = cfg.integer<std::size_t>("http.max_in_flight");
  o.max_connections = cfg.integer<std::size_t>("http.max_connections");
  o.read_timeout = cfg.millis("http.read_timeout_ms");
  o.idle_timeout = cfg.millis("http.idle_timeout_ms");
  o.write_timeout = cfg.millis("http.write_timeout_ms");
  // Probes and metrics answer under overload: an orchestrator must not restart a busy pod.
  o.unlimited_paths = {"/livez", "/readyz", "/startupz", "/metrics"};
}

/// Rate and connection limits, proxies, CORS and TLS of the HTTP server (docs/operations.md).
void read_abuse_limits(const config::settings& cfg, http::server_options& o) {
  const auto rate = [&](const std::string& rate_key, const std::string& burst_key, double per,
                        double burst_default_factor) {
    const auto r = static_cast<double>(cfg.integer(rate_key));
    const auto b = static_cast<double>(cfg.integer(burst_key));
    return http::rate_limit{r / per, b > 0 ? b : r * burst_default_factor};
  };
  o.max_connections_per_address = cfg.integer<std::size_t>("http.max_connections_per_address");
  o.trusted_proxies = cfg.list("http.trusted_proxies");
  o.client_rate = rate("http.rate_limit.client_per_second", "http.rate_limit.client_burst", 1, 2);
  o.route_rates = {
      {"POST", "/v1/polls/{id}/votes", http::server_options::route_rate::key_by::first_param,
       rate("http.rate_limit.poll_votes_per_second", "http.rate_limit.poll_votes_burst", 1, 2), "poll_votes"},
      {"POST", "/v1/polls", http::server_options::route_rate::key_by::client_address,
       rate("http.rate_limit.creations_per_minute", "http.rate_limit.creations_burst", 60, 1), "poll_creations"},
  };
  o.rate_limit_max_keys = cfg.integer<std::size_t>("http.rate_limit.max_keys");
  o.cors_origins = cfg.list("http.cors.allowed_origins");
  o.cors_max_age = std::chrono::seconds(cfg.integer("http.cors.max_age_s"));
  const auto& cert = cfg.str("http.tls.certificate_chain");
  const auto& key = cfg.str("http.tls.private_key");
  if (cert.empty() != key.empty())
    throw config::error("http.tls: set both certificate_chain and private_key, or neither");
  if (!cert.empty()) o.tls = http::server_options::tls_files{cert, key};
}

/// The JWT verifier of `jwt` polls, or none when auth.jwt.algorithms is empty.
std::shared_ptr<auth::jwt_verifier> jwt_verifier(const config::settings& cfg) {
  auth::jwt_settings js;
  js.algorithms = cfg.list("auth.jwt.algorithms");
  if (js.algorithms.empty()) return nullptr;
  if (const auto& path = cfg.str("auth.jwt.jwks_file"); !path.empty()) {
    try {
      js.jwks_json = read_jwks_file(path);
    } catch (const std::runtime_error& e) {
      throw config::error(std::string("auth.jwt.jwks_file: ") + e.what());
    }
  }
  js.hs256_secret = cfg.str("auth.jwt.hs256_secret");
  js.issuer = cfg.str("auth.jwt.issuer");
  js.audience = cfg.str("auth.jwt.audience");
  js.actor_claim = cfg.str("auth.jwt.actor_claim");
  js.leeway = std::chrono::seconds(cfg.integer("auth.jwt.leeway_s"));
  js.max_token_bytes = cfg.integer<std::size_t>("auth.jwt.max_token_bytes");
  try {
    return std::make_shared<auth::jwt_verifier>(std::move(js));
  } catch (const std::exception& e) {  // invalid_argument for settings; anything else from a bad JWKS
    throw config::error(std::string("auth.jwt: ") + e.what());
  }
}

api_options read_api(const config::settings& cfg) {
  api_options o;
  o.topic = cfg.str("kafka.topic");
  o.pollbook_group = cfg.str("kafka.pollbook_group_id");
  o.ballotbox_group = cfg.str("kafka.ballotbox_group_id");
  o.answer_deadline = cfg.millis("kafka.delivery_timeout_ms");
  o.request_timeout = cfg.millis("http.request_timeout_ms");
  // Kafka's metadata for a result's lag gets half the request's time (at most 1 s): a stalled
  // broker then costs the lag (null), not the whole answer.
  o.kafka_read_budget = std::min(std::chrono::milliseconds(1000), o.request_timeout / 2);
  o.worker_threads = cfg.integer<std::size_t>("http.worker_threads");
  o.actor_secret = cfg.str("privacy.actor_secret");
  o.token_key = cfg.str("auth.token_secret").empty() ? o.actor_secret : cfg.str("auth.token_secret");
  o.release_interval = cfg.millis("privacy.release_interval_ms");
  o.final_release_after = cfg.millis("privacy.final_release_after_ms");
  if (!cfg.str("seal.pollbook_public_key").empty() && !cfg.str("seal.ballotbox_public_key").empty()) {
    o.pollbook_key = envelope::load_public_key(cfg.str("seal.pollbook_public_key"));
    o.ballotbox_key = envelope::load_public_key(cfg.str("seal.ballotbox_public_key"));
  }
  return o;
}

/// The producer's librdkafka configuration over the pass-through keys.
std::map<std::string, std::string> read_kafka(const config::settings& cfg) {
  auto k = config::rdkafka_settings(cfg);
  // No local message timeout (0: librdkafka retries until the broker takes it or we stop):
  // the answer deadline says "outcome unknown" instead (see api::vote).
  k["message.timeout.ms"] = std::to_string(0);  // (a literal trips GCC 12 -Wrestrict)
  /// librdkafka's own bounds (100,000 messages, 1 GiB) would let a stalled cluster grow the
  /// queue to a gigabyte before produce() says QUEUE_FULL: bound it to what we can afford.
  k["queue.buffering.max.messages"] = std::to_string(cfg.integer("kafka.queue_max_messages"));
  k["queue.buffering.max.kbytes"] = std::to_string(cfg.integer("kafka.queue_max_kbytes"));
  return k;
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
  return web_files::default_root();
}

}  // namespace

std::string read_jwks_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || std::filesystem::file_size(path, ec) > 1024 * 1024)
    throw std::runtime_error("cannot read " + path + " (a regular file of at most 1 MiB)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

settings read_settings(const config::settings& cfg) {
  settings s;
  read_server(cfg, s.http);
  read_abuse_limits(cfg, s.http);
  s.api = read_api(cfg);
  s.jwt = jwt_verifier(cfg);
  s.api.jwt = s.jwt;
  s.jwks_file = cfg.str("auth.jwt.jwks_file");
  s.jwks_reload = cfg.millis("auth.jwt.jwks_reload_interval_ms");
  s.catalog_dsn = cfg.str("catalog.dsn");
  s.pollbook_dsn = cfg.str("pollbook.dsn");
  s.ballotbox_dsn = cfg.str("ballotbox.dsn");
  s.pool_size = cfg.integer<std::size_t>("db.pool_size");
  s.limits = pg::session_limits{cfg.millis("db.statement_timeout_ms")};
  s.kafka = read_kafka(cfg);
  s.api.kafka = s.kafka;  // the stores' groups' committed positions are read with the same settings
  s.shred_after = cfg.millis("privacy.shred_after_ms");
  s.cover_idle = cfg.millis("privacy.cover_idle_ms");
  s.drain_timeout = cfg.millis("shutdown.drain_timeout_ms");
  s.web_root = web_root(cfg.str("web.root"));
  return s;
}

void log_settings(const config::settings& cfg, const settings& s) {
  observability::log_info(
      "config",
      {{"effective", cfg.describe()}, {"version", runtime::build().version}, {"commit", runtime::build().commit}});
  if (s.api.jwt)
    observability::log_info("jwt_voters",
                            {{"algorithms", cfg.str("auth.jwt.algorithms")}, {"issuer", cfg.str("auth.jwt.issuer")}});
  if (!s.api.pollbook_key)
    observability::log_warn("unsealed", {{"detail", "seal.*_public_key not set: envelope halves travel in the clear"}});
  if (!s.web_root && cfg.str("web.root") != "off")
    observability::log_warn("web_ui_missing",
                            {{"detail", "no web UI found next to the binary or in the source tree; set web.root"}});
}

}  // namespace splitvote::ingest
