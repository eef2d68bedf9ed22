// Aggregate reads of the ballotbox: ballots per choice and the envelope count of a poll.
#pragma once

#include "splitvote/privacy/estimate.hpp"

#include <pqxx/pqxx>

#include <string>

namespace splitvote::ballotbox {

/// C_j for j in [0, num_choices) and n. Ballots with an out-of-range choice are not counted.
privacy::tally count_ballots(pqxx::connection& c, const std::string& poll_id,
                             std::size_t num_choices);

}  // namespace splitvote::ballotbox
