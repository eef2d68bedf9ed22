// The ballotbox schema (random_id/choice pairs and envelope counts) and its migrations.
#pragma once

#include "splitvote/pg/migrations.hpp"

#include <string>
#include <vector>

namespace splitvote::ballotbox {

inline constexpr const char* schema_name = "ballotbox";

const std::vector<pg::migration>& migrations();

/// The tables the scrubber rewrites.
inline const std::vector<std::string>& scrubbed_tables() {
  static const std::vector<std::string> tables = {"ballotbox.ballots", "ballotbox.envelope_counts"};
  return tables;
}

/// The version this build reads and writes.
int current_version();

}  // namespace splitvote::ballotbox
