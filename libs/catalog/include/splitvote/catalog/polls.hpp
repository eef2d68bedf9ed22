// Poll definitions in the catalog (SQL): create, read, close, who is eligible, releases, shredding.
#pragma once

#include "splitvote/catalog/poll.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace splitvote::catalog {

/// Stores a new poll and its eligible actors in one transaction.
void create_poll(pqxx::connection& c, const poll& p, const std::vector<eligible_actor>& eligible);

std::optional<poll> find_poll(pqxx::connection& c, const std::string& id);

/// Marks the poll closed now; returns the updated poll (unchanged if it was already closed).
std::optional<poll> close_poll(pqxx::connection& c, const std::string& id);

/// Replaces the poll's admin token hash `expected` by `replacement` (scheme hmac-sha256);
/// returns the updated poll, or none when the poll's hash is no longer `expected` (another
/// rotation came first) or the poll is gone.
std::optional<poll> replace_admin_token(pqxx::connection& c, const std::string& id,
                                        const std::array<std::byte, 32>& expected,
                                        const std::array<std::byte, 32>& replacement);

bool is_eligible(pqxx::connection& c, const std::string& poll_id, const privacy::actor_key& key);

/// The key of the actor whose voting token hashes to `token_hash`; none for an unknown token.
std::optional<privacy::actor_key> actor_for_token(pqxx::connection& c, const std::string& poll_id,
                                                  const std::array<std::byte, 32>& token_hash);

/// Destroys the keys of polls closed more than `grace` ago; returns how many. The rows are
/// deleted, but their bytes stay in the table's file until rewrite_poll_keys.
int shred_keys(pqxx::connection& c, std::chrono::seconds grace);
/// Rewrites catalog.poll_keys into a new file (LOCK, TRUNCATE, INSERT, as the scrub does): the
/// old file, holding the deleted keys, is unlinked at commit.
void rewrite_poll_keys(pqxx::connection& c);

std::optional<release> latest_release(pqxx::connection& c, const std::string& poll_id);

/// Stores `r` as the poll's next release; false if another writer stored that seq first.
bool record_release(pqxx::connection& c, const std::string& poll_id, const release& r);

}  // namespace splitvote::catalog
