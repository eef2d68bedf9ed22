// Aggregate reads of the ballotbox: ballots per choice and the envelope count of a poll.
#pragma once

#include "splitvote/privacy/estimate.hpp"

#include <pqxx/pqxx>

#include <string>

namespace splitvote::ballotbox {

/// C_j for j in [0, num_choices) and n. Ballots with an out-of-range choice are not counted.
/// Run it in one snapshot (pg::snapshot_read): C_j and n must come from the same commits.
privacy::tally count_ballots(pqxx::transaction_base& tx, const std::string& poll_id, std::size_t num_choices);

}  // namespace splitvote::ballotbox
