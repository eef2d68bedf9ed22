// A route's work run off the router's stack, its failures answered as the router would (database outages: 503).
#pragma once

#include "splitvote/http/message.hpp"

#include <functional>
#include <string_view>

namespace splitvote::ingest {

/// Runs `work`, off the router's stack (a worker thread, a continuation), and answers what the
/// router would have had it thrown there: a problem_error its problem, a database that cannot
/// be reached or did not answer within db.statement_timeout_ms 503 + Retry-After, anything
/// else a logged 500 (`step` names where, in the log).
void answer_failures(const http::respond_fn& respond, std::string_view request_id, std::string_view step,
                     const std::function<void()>& work);

}  // namespace splitvote::ingest
