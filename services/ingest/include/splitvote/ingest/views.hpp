// The JSON views of the ingest API: a poll, its privacy settings, and what they mean for a voter.
#pragma once

#include "splitvote/catalog/poll.hpp"
#include "splitvote/privacy/policy.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <vector>

namespace splitvote::ingest {

/// A poll as GET /v1/polls/{id} shows it (never its tokens or key).
boost::json::object poll_json(const catalog::poll& p);

/// The poll's privacy settings: decoys, randomized response, release noise and its budget.
boost::json::object privacy_json(const privacy::policy& policy);

/// What a linked ballot tells: e^ε_rr bounds how far it moves anyone's odds; the posterior at
/// the released shares (`shares`, empty while no release is out) is what it gives an attacker
/// who believes them, which says more than 1 − p + p/m when they are skewed.
boost::json::object privacy_statement(const privacy::policy& policy, std::uint32_t m,
                                      const std::vector<double>& shares);

}  // namespace splitvote::ingest
