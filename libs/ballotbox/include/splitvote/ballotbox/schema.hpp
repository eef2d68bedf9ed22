// The ballotbox schema (random_id/choice pairs and envelope counts) and its migrations.
#pragma once

#include "splitvote/pg/migrations.hpp"

#include <vector>

namespace splitvote::ballotbox {

inline constexpr const char* schema_name = "ballotbox";

const std::vector<pg::migration>& migrations();

/// The version this build reads and writes.
int current_version();

}  // namespace splitvote::ballotbox
