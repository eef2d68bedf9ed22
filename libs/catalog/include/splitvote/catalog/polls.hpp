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
  std::string key_hex;    // the poll's random key (64 hex digits); empty once shredded
  bool shredded = false;  // the key was destroyed after close + grace

  /// What actor keys of this poll are derived with: its key, or its id for polls from
  /// before poll keys. Empty once shredded: no actor can be keyed any more.
  std::string actor_key_salt() const { return shredded ? std::string() : key_hex.empty() ? id : key_hex; }

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

/// Destroys the keys of polls closed more than `grace` ago; returns how many. The rows go
/// at once; their dead tuples go with the next vacuum (run it: vacuum_poll_keys).
int shred_keys(pqxx::connection& c, std::chrono::seconds grace);
void vacuum_poll_keys(pqxx::connection& c);

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
