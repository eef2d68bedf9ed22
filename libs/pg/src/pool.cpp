#include "splitvote/pg/pool.hpp"

#include <stdexcept>

namespace splitvote::pg {

namespace {

/// The DSN with connect_timeout=3 unless it sets one: an unreachable server must fail a
/// connect in seconds, not hang a probe or a request. Per connection, not through the
/// process environment, which other threads read concurrently.
std::string with_connect_timeout(const std::string& dsn) {
  if (dsn.find("connect_timeout") != std::string::npos) return dsn;
  const bool url = dsn.rfind("postgresql://", 0) == 0 || dsn.rfind("postgres://", 0) == 0;
  if (!url) return dsn + (dsn.empty() ? "" : " ") + "connect_timeout=3";
  return dsn + (dsn.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=3";
}

}  // namespace

std::unique_ptr<pqxx::connection> connect(const std::string& dsn, const session_limits& limits) {
  auto c = std::make_unique<pqxx::connection>(with_connect_timeout(dsn));
  try {
    c->set_client_encoding("UTF8");
    pqxx::nontransaction tx(*c);
    tx.exec("SET statement_timeout = " + std::to_string(limits.statement_timeout.count()));
  } catch (const pqxx::broken_connection&) {
    throw;
  } catch (const pqxx::failure& e) {
    // A session the server ends right after it opened (pg_terminate_backend, a restart) fails
    // here with a plain pqxx::failure, "Setting client encoding failed.": a lost connection,
    // which every caller retries. As a failure it escaped the consumers' retry and ended them
    // (faults.commit-errors under ctest -j).
    throw pqxx::broken_connection(std::string("connection lost while it was set up: ") + e.what());
  }
  return c;
}

pool::lease::~lease() {
  if (owner_ && conn_) owner_->give_back(std::move(conn_));
}

pool::pool(std::string dsn, std::size_t size, session_limits limits)
    : dsn_(std::move(dsn)), size_(size), limits_(limits) {}

pool::lease pool::acquire(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!freed_.wait_for(lock, timeout, [&] { return !idle_.empty() || open_ < size_; }))
    throw unavailable("no database connection free within the timeout");
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return lease(*this, std::move(c));
  }
  ++open_;
  lock.unlock();
  try {
    return lease(*this, connect(dsn_, limits_));
  } catch (const pqxx::broken_connection& e) {
    lock.lock();
    --open_;
    freed_.notify_one();
    throw unavailable(std::string("database unreachable: ") + e.what());
  }
}

void pool::give_back(std::unique_ptr<pqxx::connection> c) {
  std::lock_guard lock(mutex_);
  if (c->is_open())
    idle_.push_back(std::move(c));
  else
    --open_;  // a broken connection is dropped; the next acquire opens a fresh one
  freed_.notify_one();
}

bool pool::ping() {
  try {
    auto c = acquire(std::chrono::milliseconds(500));
    pqxx::nontransaction tx(*c);
    tx.exec("SELECT 1");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace splitvote::pg
