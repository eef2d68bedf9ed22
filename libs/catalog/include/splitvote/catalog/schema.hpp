// The catalog schema (poll definitions, eligible actors) and its migrations.
#pragma once

#include "splitvote/pg/migrations.hpp"

#include <vector>

namespace splitvote::catalog {

inline constexpr const char* schema_name = "catalog";

const std::vector<pg::migration>& migrations();

/// The version this build reads and writes.
int current_version();

}  // namespace splitvote::catalog
