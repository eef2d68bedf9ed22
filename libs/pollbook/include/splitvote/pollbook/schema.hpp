// The pollbook schema (who submitted to which poll) and its migrations.
#pragma once

#include "splitvote/pg/migrations.hpp"

#include <string>
#include <vector>

namespace splitvote::pollbook {

inline constexpr const char* schema_name = "pollbook";

const std::vector<pg::migration>& migrations();

/// The tables the scrubber rewrites.
inline const std::vector<std::string>& scrubbed_tables() {
  static const std::vector<std::string> tables = {"pollbook.submissions"};
  return tables;
}

/// The version this build reads and writes.
int current_version();

}  // namespace splitvote::pollbook
