// Test environment: the PostgreSQL fixture's servers, fresh databases, binaries and temp dirs.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace splitvote::testing {

struct pg_servers {
  std::string main;    // postgresql://postgres@127.0.0.1:PORT (catalog + pollbook cluster)
  std::string ballot;  // the ballotbox's own cluster
};

/// `name` from the environment, else the build's default.
const char* setting(const char* name, const char* fallback);

/// From the file the CTest fixture wrote (SPLITVOTE_TEST_PG_ENV); fails the test if absent.
const pg_servers& pg();

/// Stops (fast shutdown) or starts again one of the fixture's clusters, "main" or "ballot",
/// with script/lib/postgres.sh: a real outage for fault tests. Throws if it fails.
void pg_server_stop(const std::string& which);
void pg_server_start(const std::string& which);

/// A PostgreSQL cluster of the test's own (script/lib/postgres.sh: initdb and pg_ctl in a temp
/// dir, on a free port), for faults that would disturb the other tests on the shared fixture.
class private_cluster {
public:
  /// `shipped_wal`: with script/lib/postgres.sh's PG_WAL_SETTINGS (as everything else runs);
  /// false: with PostgreSQL's own WAL defaults, for a test that shows what the settings change.
  explicit private_cluster(const std::string& name, bool shipped_wal = true);
  /// Thaws it if frozen, then stops it (fast shutdown).
  ~private_cluster();
  private_cluster(const private_cluster&) = delete;
  private_cluster& operator=(const private_cluster&) = delete;

  /// postgresql://postgres@127.0.0.1:PORT, like pg_servers' URLs.
  const std::string& url() const { return url_; }
  /// SIGSTOP to the postmaster and every process it started: the server is there (TCP
  /// connects succeed) but answers nothing, and cannot even cancel a statement.
  void freeze();
  /// SIGCONT to what freeze() stopped.
  void thaw();

private:
  std::filesystem::path dir_;
  std::string url_;
  std::vector<int> frozen_;
};

/// Creates an empty database with a random name on `server`; returns its DSN.
std::string fresh_database(const std::string& server);

/// The same DSN (postgresql://postgres@...), logging in as `role` instead of the superuser.
/// Throws std::invalid_argument if the DSN does not log in as postgres.
std::string as_role(const std::string& dsn, const std::string& role);

/// The whole content of a file (empty if it cannot be read): logs, keys, configs.
std::string read_file(const std::filesystem::path& p);

/// Appends `line` and a newline to `path` (created with its directories if missing) in one
/// write(2) on an O_APPEND descriptor: test processes that run side by side (ctest -j) append to
/// the same recordings, and a line must reach the file whole. Throws if the write fails.
void append_line(const std::filesystem::path& path, std::string_view line);

/// A new empty directory under the build's temp area.
std::filesystem::path temp_dir(const std::string& prefix);

/// Path of a service binary by target name ("splitvote-ingest").
std::string binary(const std::string& name);

/// A TCP port on 127.0.0.1 nobody listens on now, below the ephemeral range (no client socket
/// takes it) and claimed for this process, so no other test process is given it while it lives.
unsigned short free_port();

}  // namespace splitvote::testing
