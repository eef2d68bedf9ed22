// The steps of ingest's main that are more than one call: schema checks, the web UI, TLS reloads, periodic jobs.
#pragma once

#include "splitvote/http/router.hpp"
#include "splitvote/http/server.hpp"
#include "splitvote/ingest/api.hpp"
#include "splitvote/ingest/settings.hpp"
#include "splitvote/pg/pool.hpp"

#include <filesystem>
#include <optional>
#include <thread>

namespace splitvote::ingest {

/// Refuses to start unless each database's schema is at the version this build expects.
void require_schemas(pg::pool& catalog, pg::pool& pollbook, pg::pool& ballotbox);

/// Registers the web UI's routes (none when `root` is none) and logs where it comes from.
void serve_web_ui(const std::optional<std::filesystem::path>& root, http::router& routes);

/// SIGHUP: rereads the TLS certificate and key (new connections get them); a failure keeps the old ones.
void reload_tls(http::server& server);

/// SIGHUP (and every auth.jwt.jwks_reload_interval_ms, from periodic_jobs): rereads the JWKS into
/// the verifier; logs jwks_reloaded (whether the keys changed) or jwks_reload_failed (the keys
/// in use stay). Nothing without RS256 voters.
void reload_jwks(const settings& s);

/// The API's work on intervals, started at construction: readiness checks, crypto-shredding,
/// forgetting stored voters, wiping the sealers' keys, cover traffic, rereading the JWKS. A job that fails logs
/// `<job>_failed` once per outage and `<job>_recovered` when it works again.
class periodic_jobs {
public:
  periodic_jobs(api& a, const settings& s);
  /// At the drain: stops the jobs that use PostgreSQL and Kafka. The sealers' keys are still
  /// wiped on time until this is destroyed.
  void request_stop();

private:
  std::jthread readiness_, shredder_, forget_, seal_keys_, cover_, jwks_;
};

}  // namespace splitvote::ingest
