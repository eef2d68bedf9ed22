// What ingest keeps in the catalog (polls, eligibility, voter tokens, releases, keys), behind an interface.
#pragma once

#include "splitvote/catalog/poll.hpp"
#include "splitvote/privacy/actor_key.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace splitvote::pg {
class pool;
}

namespace splitvote::ingest {

/// The catalog as the routes use it. Failures are exceptions: the PostgreSQL one throws
/// pg::unavailable and pqxx's errors, which the routes answer as 503 (problems.hpp).
class catalog_store {
public:
  virtual ~catalog_store() = default;

  /// Stores a new poll and its eligible actors at once.
  virtual void create_poll(const catalog::poll& p, const std::vector<catalog::eligible_actor>& eligible) = 0;
  virtual std::optional<catalog::poll> find_poll(const std::string& id) = 0;
  /// Marks the poll closed now; the updated poll (unchanged if it was closed already).
  virtual std::optional<catalog::poll> close_poll(const std::string& id) = 0;
  /// Replaces the admin token hash `expected` by `replacement`; the updated poll, or none when
  /// the hash is no longer `expected` (another rotation came first).
  virtual std::optional<catalog::poll> replace_admin_token(const std::string& id,
                                                           const std::array<std::byte, 32>& expected,
                                                           const std::array<std::byte, 32>& replacement) = 0;
  virtual bool is_eligible(const std::string& poll_id, const privacy::actor_key& key) = 0;
  /// The actor whose voting token hashes to `token_hash`; none for an unknown token.
  virtual std::optional<privacy::actor_key> actor_for_token(const std::string& poll_id,
                                                            const std::array<std::byte, 32>& token_hash) = 0;
  virtual std::optional<catalog::release> latest_release(const std::string& poll_id) = 0;
  /// Stores `r` as the poll's next release; false if another writer stored that seq first.
  virtual bool record_release(const std::string& poll_id, const catalog::release& r) = 0;
  /// Destroys the keys of polls closed more than `grace` ago, leaving none of their bytes in
  /// the table's files; returns how many polls.
  virtual int shred_keys(std::chrono::seconds grace) = 0;
  /// Whether the catalog answers now.
  virtual bool reachable() = 0;
};

/// The catalog in PostgreSQL (libs/catalog), through `pool`, which must outlive it.
std::unique_ptr<catalog_store> catalog_in(pg::pool& pool);

}  // namespace splitvote::ingest
