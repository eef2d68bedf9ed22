// Poll definitions in the catalog: create, read, close, and who is eligible.
#pragma once

#include "splitvote/privacy/actor_key.hpp"
#include "splitvote/privacy/policy.hpp"

#include <pqxx/pqxx>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace splitvote::catalog {

using time_point = std::chrono::system_clock::time_point;

struct poll {
  std::string id;  // uuid text
  std::string title;
  std::vector<std::string> choices;
  privacy::policy privacy;
  std::int64_t eligible_count = 0;  // 0: anyone may vote
  std::array<std::byte, 32> admin_token_hash{};
  time_point created_at{};
  std::optional<time_point> closes_at;
  std::optional<time_point> closed_at;

  bool is_closed(time_point now) const {
    return closed_at.has_value() || (closes_at && *closes_at <= now);
  }
};

/// Stores a new poll and its eligible actors' keys in one transaction.
void create_poll(pqxx::connection& c, const poll& p,
                 const std::vector<privacy::actor_key>& eligible);

std::optional<poll> find_poll(pqxx::connection& c, const std::string& id);

/// Marks the poll closed now; returns the updated poll (unchanged if it was already closed).
std::optional<poll> close_poll(pqxx::connection& c, const std::string& id);

bool is_eligible(pqxx::connection& c, const std::string& poll_id, const privacy::actor_key& key);

/// One release of a poll's counts: the raw tally it was drawn from and the noisy counts.
struct release {
  int seq = 0;
  std::int64_t envelopes = 0;
  std::vector<std::int64_t> raw;       // C_j
  std::vector<std::int64_t> released;  // C_j + Z_j
  double epsilon_spent = 0;            // total over this and every earlier release
  time_point released_at{};
};

std::optional<release> latest_release(pqxx::connection& c, const std::string& poll_id);

/// Stores `r` as the poll's next release; false if another writer stored that seq first.
bool record_release(pqxx::connection& c, const std::string& poll_id, const release& r);

}  // namespace splitvote::catalog
