#include "splitvote/ingest/lifecycle.hpp"

#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/catalog/schema.hpp"
#include "splitvote/ingest/web_files.hpp"
#include "splitvote/observability/log.hpp"
#include "splitvote/pg/migrations.hpp"
#include "splitvote/pollbook/schema.hpp"
#include "splitvote/runtime/signals.hpp"

#include <string>
#include <utility>

namespace splitvote::ingest {
namespace {

/// `task` every `interval`; a failure is logged once per outage, and the recovery.
std::jthread logged_every(std::chrono::milliseconds interval, std::function<void()> task, const std::string& job) {
  return runtime::every(
      interval, std::move(task),
      [event = job + "_failed"](const std::exception& e) {
        observability::log_warn(event, {{"error", e.what()}});
      },
      [event = job + "_recovered"] { observability::log_info(event); });
}

}  // namespace

void require_schemas(pg::pool& catalog, pg::pool& pollbook, pg::pool& ballotbox) {
  pg::require_schema_version(*catalog.acquire(), catalog::schema_name, catalog::current_version());
  pg::require_schema_version(*pollbook.acquire(), pollbook::schema_name, pollbook::current_version());
  pg::require_schema_version(*ballotbox.acquire(), ballotbox::schema_name, ballotbox::current_version());
}

void serve_web_ui(const std::optional<std::filesystem::path>& root, http::router& routes) {
  if (!root) return;
  const auto files = web_files::load(*root);
  files.register_routes(routes);
  observability::log_info("web_ui", {{"root", root->string()}, {"files", files.size()}});
}

void reload_tls(http::server& server) {
  if (!server.tls()) return;
  try {
    server.reload_tls();
    observability::log_info("tls_reloaded", {});
  } catch (const std::exception& e) {
    observability::log_error("tls_reload_failed", {{"error", e.what()}, {"detail", "the previous certificate stays"}});
  }
}

namespace {

/// Whether the JWKS file's keys replaced different ones; throws when the file or its JWKS is refused.
bool replace_jwks(const settings& s) { return s.jwt->replace_jwks(read_jwks_file(s.jwks_file)); }

bool reloads_jwks(const settings& s) { return s.jwt && !s.jwks_file.empty(); }

}  // namespace

void reload_jwks(const settings& s) {
  if (!reloads_jwks(s)) return;
  try {
    observability::log_info("jwks_reloaded", {{"changed", replace_jwks(s)}});
  } catch (const std::exception& e) {
    observability::log_error("jwks_reload_failed", {{"error", e.what()}, {"detail", "the keys in use stay"}});
  }
}

periodic_jobs::periodic_jobs(api& a, const settings& s) {
  // Readiness: the dependencies are checked here, /readyz only reads the outcome.
  readiness_ = runtime::every(std::chrono::milliseconds(1000), [&a] { a.check_dependencies(); });
  // Crypto-shredding, checked every minute.
  const auto shred_after = std::chrono::duration_cast<std::chrono::seconds>(s.shred_after);
  shredder_ = logged_every(
      shred_after.count() > 0 ? std::chrono::minutes(1) : std::chrono::minutes(0),
      [&a, shred_after] { a.shred_expired_keys(shred_after); }, "shred");
  // Reserved voters are forgotten once the pollbook holds their votes: memory follows its lag.
  // The readiness probe reports the database.
  forget_ = logged_every(
      std::chrono::milliseconds(500), [&a] { a.forget_stored_voters(); }, "forget_stored");
  // The sealers' shared keys are wiped once their period (10 s) is over, busy or not.
  seal_keys_ = runtime::every(std::chrono::milliseconds(1000), [&a] { a.forget_expired_seal_keys(); });
  // Cover traffic for idle polls.
  cover_ = logged_every(
      s.cover_idle, [&a, idle = s.cover_idle] { a.send_cover_envelopes(idle); }, "cover");
  // The identity provider's keys, as it rotates them (logged only when they changed).
  if (reloads_jwks(s))
    jwks_ = logged_every(
        s.jwks_reload,
        [&s] {
          if (replace_jwks(s)) observability::log_info("jwks_reloaded", {{"changed", true}});
        },
        "jwks_reload");
}

void periodic_jobs::request_stop() {
  shredder_.request_stop();
  cover_.request_stop();
  readiness_.request_stop();
  forget_.request_stop();
}

}  // namespace splitvote::ingest
