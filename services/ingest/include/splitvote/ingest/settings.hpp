// ingest's configuration read into the options of its parts: the HTTP server, the API, the databases, Kafka, the UI.
#pragma once

#include "splitvote/config/settings.hpp"
#include "splitvote/http/server.hpp"
#include "splitvote/ingest/api.hpp"
#include "splitvote/pg/pool.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace splitvote::ingest {

struct settings {
  http::server_options http;
  api_options api;
  std::string catalog_dsn, pollbook_dsn, ballotbox_dsn;
  std::size_t pool_size = 8;  // connections per database
  pg::session_limits limits;
  std::map<std::string, std::string> kafka;  // the producer's librdkafka configuration
  std::chrono::milliseconds shred_after{0};  // 0: never
  std::chrono::milliseconds cover_idle{0};   // 0: no cover traffic
  std::chrono::milliseconds drain_timeout{15000};
  std::optional<std::filesystem::path> web_root;  // none: no UI
  /// api.jwt, whose JWKS SIGHUP and jwks_reload reread from jwks_file (none: no auth.jwt.*).
  std::shared_ptr<auth::jwt_verifier> jwt;
  std::string jwks_file;
  std::chrono::milliseconds jwks_reload{0};  // 0: only on SIGHUP
};

/// The JWKS document at `path` (a regular file of at most 1 MiB); std::runtime_error naming it.
std::string read_jwks_file(const std::string& path);

/// Reads what settings::load(properties()) checked, plus the checks across keys and the files
/// settings name (the JWKS, the seal keys, the web root): a config::error for a bad setting.
/// Logs nothing: it runs before logging starts.
settings read_settings(const config::settings& cfg);

/// Logs the effective configuration (secrets masked) and what it leaves out: unsealed halves, no web UI.
void log_settings(const config::settings& cfg, const settings& s);

}  // namespace splitvote::ingest
