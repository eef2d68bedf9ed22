#include "splitvote/ingest/properties.hpp"

#include "splitvote/config/shared_keys.hpp"
#include "splitvote/http/server.hpp"

#include <optional>
#include <string>

namespace splitvote::ingest {
namespace {

using config::integer;
using config::list;
using config::millis;
using config::secret;
using config::text;

constexpr std::int64_t max_rate = 100000000;
constexpr std::int64_t max_timeout_ms = 86400000;

std::optional<std::string> at_least_16_bytes(const std::string& value) {
  if (value.size() < 16) return "must be at least 16 bytes";
  return std::nullopt;
}

std::optional<std::string> empty_or_16_bytes(const std::string& value) {
  if (!value.empty() && value.size() < 16) return "must be at least 16 bytes (or empty: the actor secret)";
  return std::nullopt;
}

std::optional<std::string> a_network(const std::string& item) {
  if (!http::is_network(item)) return "'" + item + "' is not an address or a network (10.0.0.0/8, ::1)";
  return std::nullopt;
}

std::optional<std::string> an_origin(const std::string& item) {
  if (!(item.starts_with("https://") || item.starts_with("http://")) || item.find('*') != std::string::npos)
    return "'" + item + "' is not an origin like https://app.example (no wildcards)";
  return std::nullopt;
}

}  // namespace

std::vector<config::property> properties() {
  std::vector<config::property> p = config::http_listen("address to listen on", "port to listen on", 8080);
  const std::vector<config::property> own = {
      integer("http.threads", "I/O threads", 2, 1, 64),
      integer("http.worker_threads",
              "threads that run the routes' PostgreSQL and Kafka work (the I/O threads never wait on either)", 8, 1,
              256),
      millis("http.request_timeout_ms",
             "a request not answered within this gets 503 + Retry-After (a vote: unless it reached Kafka; then "
             "kafka.delivery_timeout_ms applies)",
             5000, 1, max_timeout_ms),
      integer("http.max_in_flight", "requests handled at once; more get 503 + Retry-After (0: no limit; probes exempt)",
              1000, 0, 1000000),
      integer("http.max_connections", "open connections; more are answered 503 and closed (0: no limit)", 1000, 0,
              1000000),
      millis("http.read_timeout_ms", "a whole request (line, headers, body) must arrive within this", 10000, 1,
             max_timeout_ms),
      millis("http.idle_timeout_ms", "a keep-alive connection may wait this long for its next request", 30000, 1,
             max_timeout_ms),
      millis("http.write_timeout_ms", "a response must be taken by the client within this", 10000, 1, max_timeout_ms),
      integer("http.max_connections_per_address",
              "open connections from one client address; more are answered 429 and closed (0: no limit; trusted "
              "proxies exempt)",
              0, 0, 1000000),
      list("http.trusted_proxies", "addresses or networks of proxies whose X-Forwarded-For names the client (list)")
          .checked(a_network),
      integer("http.rate_limit.client_per_second",
              "requests per second per client address, all routes but probes and /metrics; more get 429 + Retry-After "
              "(0: no limit)",
              0, 0, max_rate),
      integer("http.rate_limit.client_burst",
              "requests one client address may make at once (0: twice client_per_second)", 0, 0, max_rate),
      integer("http.rate_limit.poll_votes_per_second",
              "votes per second per poll (POST /v1/polls/{id}/votes); more get 429 + Retry-After (0: no limit)", 0, 0,
              max_rate),
      integer("http.rate_limit.poll_votes_burst", "votes one poll may take at once (0: twice poll_votes_per_second)", 0,
              0, max_rate),
      integer("http.rate_limit.creations_per_minute",
              "polls one client address may create per minute (POST /v1/polls); more get 429 + Retry-After (0: no "
              "limit)",
              0, 0, max_rate),
      integer("http.rate_limit.creations_burst",
              "polls one client address may create at once (0: creations_per_minute)", 0, 0, max_rate),
      integer("http.rate_limit.max_keys",
              "buckets kept per limit (client addresses, polls); the least recently used go first", 100000, 16,
              max_rate),
      list("http.cors.allowed_origins",
           "browser origins (https://host[:port]) that may call the API (list; empty: no CORS)")
          .checked(an_origin),
      integer("http.cors.max_age_s", "how long a browser may cache a preflight's answer", 600, 0, 86400),
      text("http.tls.certificate_chain",
           "PEM certificate chain: serve HTTPS (with http.tls.private_key; reread on SIGHUP)", ""),
      text("http.tls.private_key", "PEM private key of the certificate", ""),
      secret("catalog.dsn", "PostgreSQL DSN of the catalog schema"),
      secret("pollbook.dsn", "PostgreSQL DSN of the pollbook (read: participation)"),
      secret("ballotbox.dsn", "PostgreSQL DSN of the ballotbox (read: counts)"),
      integer("db.pool_size", "connections per database", 8, 1, 256),
      config::statement_timeout("the server cancels any statement of this service that runs longer", 3000),
      text("kafka.pollbook_group_id", "the pollbook's consumer group (its committed positions give the lag in results)",
           "splitvote-pollbook"),
      text("kafka.ballotbox_group_id", "the ballotbox's consumer group", "splitvote-ballotbox"),
      millis("kafka.delivery_timeout_ms",
             "answer 503 outcome-unknown if Kafka has not acknowledged within this (the producer keeps trying: the "
             "vote may still count)",
             5000),
      integer("kafka.queue_max_messages",
              "producer queue bound in messages (queue.buffering.max.messages); a vote beyond it gets 503", 10000, 1,
              10000000),
      integer("kafka.queue_max_kbytes",
              "producer queue bound in KiB (queue.buffering.max.kbytes); a vote beyond it gets 503", 16384, 1,
              2147483647),
      secret("privacy.actor_secret", "server secret for actor keys (HMAC-SHA-256)").checked(at_least_16_bytes),
      secret("auth.token_secret", "key of the admin and voter token hashes (HMAC-SHA-256); empty: the actor secret", "")
          .checked(empty_or_16_bytes),
      list("auth.jwt.algorithms",
           "accepted JWS algorithms of voters' JWTs, pinned (list of RS256, HS256; empty: no jwt polls)"),
      text("auth.jwt.jwks_file", "JWKS file with the identity provider's RS256 public keys", ""),
      millis("auth.jwt.jwks_reload_interval_ms",
             "reread auth.jwt.jwks_file this often (0: only on SIGHUP); a refused file keeps the keys in use", 0, 0,
             86400000),
      secret("auth.jwt.hs256_secret", "HS256 shared secret (at least 32 bytes)", ""),
      text("auth.jwt.issuer", "the iss every JWT must carry", ""),
      text("auth.jwt.audience", "the aud every JWT must name", ""),
      text("auth.jwt.actor_claim", "the claim holding the actor id", "sub"),
      integer("auth.jwt.leeway_s", "clock skew allowed for exp and nbf", 60, 0, 3600),
      integer("auth.jwt.max_token_bytes",
              "longer bearer JWTs are refused unread (at most 7168: the 8 KiB header limit holds the rest)", 6144, 256,
              7168),
      millis("privacy.cover_idle_ms", "send a cover envelope for a poll idle this long (0: no cover traffic)", 0),
      millis("privacy.shred_after_ms", "destroy a poll's key this long after it closes (0: never)", 604800000),
      millis("privacy.release_interval_ms",
             "the wait between a poll's first and second noisy release; each later wait doubles", 60000),
      millis("privacy.final_release_after_ms",
             "a closed poll's final release (kept in its budget) waits this long after the close: longer than the "
             "consumers' mixing.max_wait_ms",
             330000),
      text("seal.pollbook_public_key", "file with the pollbook's public key: seal actor halves to it", ""),
      text("seal.ballotbox_public_key", "file with the ballotbox's public key: seal ballot halves to it", ""),
      millis("shutdown.drain_timeout_ms", "how long SIGTERM waits for requests in flight", 15000),
      text("web.root",
           "directory of the web UI (index.html, assets/); empty: ../share/splitvote/web next to the binary, else the "
           "source tree's; 'off': no UI",
           ""),
      config::log_level(),
  };
  p.insert(p.end(), own.begin(), own.end());
  const auto kafka = config::kafka_properties();
  p.insert(p.end(), kafka.begin(), kafka.end());
  return p;
}

}  // namespace splitvote::ingest
