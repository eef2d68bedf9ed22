#include "splitvote/bench/drain.hpp"

#include <pqxx/pqxx>

#include <cctype>
#include <stdexcept>
#include <thread>

namespace splitvote::bench {

namespace {
/// The poll ids came from the server; still, only uuid characters go into the statement.
std::string uuid_list(const std::map<std::string, std::uint64_t>& polls) {
  std::string out;
  for (const auto& [id, n] : polls) {
    for (char c : id)
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == '-')) throw std::runtime_error("not a uuid: " + id);
    out += (out.empty() ? "'" : ",'") + id + "'::uuid";
  }
  return out;
}

std::uint64_t count(pqxx::connection& c, const std::string& sql) {
  pqxx::nontransaction tx(c);
  return tx.exec1(sql)[0].as<std::uint64_t>();
}
}  // namespace

drain_result wait_for_drain(const std::string& pollbook_dsn, const std::string& ballotbox_dsn,
                            const std::map<std::string, std::uint64_t>& accepted_per_poll,
                            std::chrono::steady_clock::time_point since, std::chrono::milliseconds timeout) {
  drain_result r;
  for (const auto& [id, n] : accepted_per_poll) r.expected += n;
  const std::string ids = uuid_list(accepted_per_poll);
  pqxx::connection pollbook(pollbook_dsn);
  pqxx::connection ballotbox(ballotbox_dsn);
  const std::string pollbook_sql =
      ids.empty() ? "SELECT 0" : "SELECT count(*) FROM pollbook.submissions WHERE poll_id IN (" + ids + ")";
  const std::string ballotbox_sql =
      ids.empty()
          ? "SELECT 0"
          : "SELECT coalesce(sum(envelopes), 0)::bigint FROM ballotbox.envelope_counts WHERE poll_id IN (" + ids + ")";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (r.pollbook < r.expected) r.pollbook = count(pollbook, pollbook_sql);
    if (r.ballotbox < r.expected) r.ballotbox = count(ballotbox, ballotbox_sql);
    const auto now = std::chrono::steady_clock::now();
    r.seconds = std::chrono::duration<double>(now - since).count();
    if (r.pollbook >= r.expected && r.ballotbox >= r.expected) {
      r.complete = true;
      return r;
    }
    if (now >= deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace splitvote::bench
