// Aggregate reads of the pollbook: participation counts and "have these actors submitted?".
#pragma once

#include "splitvote/pollbook/participation.hpp"

#include <pqxx/pqxx>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace splitvote::pollbook {

participation count_participation(pqxx::transaction_base& tx, const std::string& poll_id);

/// Which of `keys` have a submission in the poll (element i answers keys[i]), in one
/// statement: the SQL function pollbook.has_submitted per key, so the reader role still
/// asks about one actor at a time, only many of them per round trip.
std::vector<bool> submitted_among(pqxx::connection& c, const std::string& poll_id,
                                  const std::vector<std::array<std::byte, 32>>& keys);

}  // namespace splitvote::pollbook
