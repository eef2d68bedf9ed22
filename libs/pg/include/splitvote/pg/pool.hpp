// PostgreSQL connections: one per thread at a time, leased from a small bounded pool.
#pragma once

#include <pqxx/pqxx>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace splitvote::pg {

/// The database cannot be reached, or no connection was free in time: worth retrying later.
struct unavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A read-only transaction whose statements all see one snapshot (REPEATABLE READ): counts
/// read in several statements then belong together.
using snapshot_read = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

/// What a service's sessions are allowed: every statement is cancelled by the server after
/// `statement_timeout` (SET at connect, so it covers every query of the session).
struct session_limits {
  std::chrono::milliseconds statement_timeout{30000};
};

/// A connection with client encoding pinned to UTF8 and the statement timeout of `limits`.
std::unique_ptr<pqxx::connection> connect(const std::string& dsn, const session_limits& limits = {});

class pool {
public:
  class lease {
  public:
    lease(pool& owner, std::unique_ptr<pqxx::connection> c) : owner_(&owner), conn_(std::move(c)) {}
    lease(lease&&) = default;
    lease& operator=(lease&&) = default;
    ~lease();
    pqxx::connection& operator*() const { return *conn_; }
    pqxx::connection* operator->() const { return conn_.get(); }

  private:
    pool* owner_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  pool(std::string dsn, std::size_t size, session_limits limits = {});

  /// Waits up to `timeout` for a free connection; throws pg::unavailable if none is free in
  /// time or the database cannot be reached.
  lease acquire(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// True if `SELECT 1` succeeds on a pooled connection.
  bool ping();

private:
  friend class lease;
  void give_back(std::unique_ptr<pqxx::connection> c);

  std::string dsn_;
  std::size_t size_;
  session_limits limits_;
  std::size_t open_ = 0;  // connections created and not yet dropped
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::mutex mutex_;
  std::condition_variable freed_;
};

}  // namespace splitvote::pg
