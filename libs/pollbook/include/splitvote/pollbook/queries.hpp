// Aggregate reads of the pollbook: participation counts and "has this actor submitted?".
#pragma once

#include <pqxx/pqxx>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace splitvote::pollbook {

struct participation {
  std::int64_t submissions = 0;
  std::int64_t unique_actors = 0;
  std::int64_t duplicates() const { return submissions - unique_actors; }
};

participation count_participation(pqxx::transaction_base& tx, const std::string& poll_id);

bool has_submitted(pqxx::connection& c, const std::string& poll_id,
                   const std::array<std::byte, 32>& actor_key);

/// has_submitted for many keys of one poll in one statement (one round trip): element i
/// answers keys[i].
std::vector<bool> submitted_among(pqxx::connection& c, const std::string& poll_id,
                                  const std::vector<std::array<std::byte, 32>>& keys);

}  // namespace splitvote::pollbook
