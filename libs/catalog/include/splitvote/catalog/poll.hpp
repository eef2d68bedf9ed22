// A poll, its eligible actors and its releases as the catalog keeps them: domain types, no SQL.
#pragma once

#include "splitvote/catalog/access.hpp"
#include "splitvote/privacy/actor_key.hpp"
#include "splitvote/privacy/policy.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace splitvote::catalog {

using time_point = std::chrono::system_clock::time_point;

/// How a poll's admin token is stored: plain SHA-256 (polls from before keyed hashes), or
/// HMAC-SHA-256 under the server's token key (privacy::keyed_token_hash).
enum class token_scheme { sha256, hmac_sha256 };

struct poll {
  std::string id;  // uuid text
  std::string title;
  std::vector<std::string> choices;
  privacy::policy privacy;
  std::int64_t eligible_count = 0;  // 0: anyone may vote
  std::array<std::byte, 32> admin_token_hash{};
  token_scheme admin_token_scheme = token_scheme::hmac_sha256;
  catalog::voter_auth voter_auth = catalog::voter_auth::open;
  catalog::results_visibility results_visibility = catalog::results_visibility::admin;
  time_point created_at{};
  std::optional<time_point> closes_at;
  std::optional<time_point> closed_at;
  std::string key_hex;    // the poll's random key (64 hex digits); empty once shredded
  bool shredded = false;  // the key was destroyed after close + grace

  /// What actor keys of this poll are derived with: its key, or its id for polls from
  /// before poll keys. Empty once shredded: no actor can be keyed any more.
  std::string actor_key_salt() const { return shredded ? std::string() : key_hex.empty() ? id : key_hex; }

  bool is_closed(time_point now) const { return closed_at.has_value() || (closes_at && *closes_at <= now); }
};

/// One eligible actor as stored: the actor's key and, for `tokens` polls, the keyed hash of
/// the actor's voting token.
struct eligible_actor {
  privacy::actor_key key{};
  std::optional<std::array<std::byte, 32>> token_hash;
};

/// A release of a poll's counts. The exact counts per choice are not kept (they stay in the
/// ballotbox): only the totals the estimate needs and a keyed digest of the tally.
struct release {
  int seq = 0;
  std::int64_t envelopes = 0;          // n
  std::int64_t ballots = 0;            // N = sum of C_j
  std::string tally_digest;            // keyed digest of (n, C_j...): did the tally change?
  std::vector<std::int64_t> released;  // C_j + Z_j
  double epsilon_spent = 0;            // total over this and every earlier release
  time_point released_at{};
};

}  // namespace splitvote::catalog
