// Actors whose vote this ingest sent and the pollbook may not hold yet: their second vote is refused meanwhile.
#pragma once

#include "splitvote/privacy/actor_key.hpp"

#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

namespace splitvote::ingest {

/// The pollbook lookup ("already voted?") cannot see a vote that is still on its way through
/// Kafka; this set covers that gap on this instance. An actor is reserved before its envelope
/// is produced and forgotten once the pollbook's stored positions have passed the envelope's
/// offset (the lookup sees it from then on), or after `max_age` whatever happened, so memory
/// follows the pollbook's lag, not the vote rate times a fixed window.
///
/// A lookup begun before the pollbook positions that made us forget someone were read may not
/// have seen that actor's vote either: `lookup_current` says whether a lookup's answer can be
/// trusted together with this set, and the caller asks again when it cannot.
class recent_voters {
public:
  using clock = std::chrono::steady_clock;

  explicit recent_voters(std::chrono::milliseconds max_age = std::chrono::minutes(10)) : max_age_(max_age) {}

  /// False if the actor is already reserved.
  bool reserve(const privacy::actor_key& key, clock::time_point now = clock::now());
  /// The vote was not sent (or failed for certain): the actor may try again.
  void release(const privacy::actor_key& key);
  /// Kafka has the actor's envelope at `partition`/`offset`.
  void delivered(const privacy::actor_key& key, int partition, std::int64_t offset);
  /// `positions` (partition -> next offset the pollbook will store) were read by a query that
  /// had returned by `observed`: forgets every actor stored below them, and every reservation
  /// older than max_age. Returns how many were forgotten.
  std::size_t forget_stored(const std::map<int, std::int64_t>& positions, clock::time_point observed);
  /// Only the max_age rule (when the pollbook cannot be read).
  std::size_t forget_expired(clock::time_point now);
  /// Whether a pollbook lookup begun at `started` saw every vote this set has forgotten.
  bool lookup_current(clock::time_point started) const;

  std::size_t size() const;

private:
  struct key_hash {
    std::size_t operator()(const privacy::actor_key& k) const noexcept {
      std::size_t h;  // the key is an HMAC: any of its bytes are as good as a hash
      std::memcpy(&h, k.data(), sizeof h);
      return h;
    }
  };
  struct entry {
    clock::time_point reserved;
    int partition = -1;  // -1 until delivered
    std::int64_t offset = -1;
  };

  std::chrono::milliseconds max_age_;
  mutable std::mutex mutex_;
  std::unordered_map<privacy::actor_key, entry, key_hash> entries_;
  clock::time_point forgot_stored_at_{};  // the last observation that forgot a stored actor
};

}  // namespace splitvote::ingest
