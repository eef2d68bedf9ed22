// ingest's settings as declared: every key with its description, default, bounds and checks (docs/operations.md).
#pragma once

#include "splitvote/config/settings.hpp"

#include <vector>

namespace splitvote::ingest {

/// What settings::load reads for ingest (with config::kafka_passthrough()).
std::vector<config::property> properties();

}  // namespace splitvote::ingest
