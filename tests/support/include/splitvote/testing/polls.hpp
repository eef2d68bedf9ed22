// Poll-level helpers for end-to-end tests: create a poll, cast votes in parallel, await results.
#pragma once

#include "splitvote/testing/http_client.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace splitvote::testing {

struct created_poll {
  std::string id;
  std::string admin_token;
  std::map<std::string, std::string> voter_tokens;  // actor id -> voting token (voter_auth tokens)

  /// The poll's votes resource: "/v1/polls/{id}/votes".
  std::string votes_path() const { return "/v1/polls/" + id + "/votes"; }
};

/// POST /v1/polls with `body`; fails the test unless 201.
created_poll create_poll(unsigned short port, const std::string& body);

class stack;
/// Starts the whole stack (`stack::start_all`), then creates the poll through its ingest.
created_poll start_with_poll(stack& s, const std::string& body);

struct vote {
  std::string actor;
  std::string choice;
};

struct cast_result {
  std::vector<unsigned> statuses;  // per vote, in input order
  double seconds = 0;
  int accepted() const;
  /// How many of each status other than 202 ("503 x12, 0 x1"; 0: no answer), for messages.
  std::string others() const;
};

/// Casts the votes over `connections` keep-alive connections in parallel. `on_progress` is
/// called (from the casting threads) after each vote with the number done so far.
cast_result cast_votes(unsigned short port, const std::string& poll_id, const std::vector<vote>& votes,
                       int connections = 4, const std::function<void(int)>& on_progress = {});

/// Casts the votes from `threads` threads, each vote on a new connection that the client
/// closes after the answer (`Connection: close`): how a client without keep-alive (urllib,
/// curl in a loop, a proxy without upstream keep-alive) votes.
cast_result cast_votes_fresh(unsigned short port, const std::string& poll_id, const std::vector<vote>& votes,
                             int threads = 4, contract_record record = contract_record::yes);

/// GET results until `done(results)` holds or the timeout passes; returns the last results.
boost::json::object await_results(unsigned short port, const created_poll& poll,
                                  const std::function<bool(const boost::json::object&)>& done,
                                  std::chrono::seconds timeout = std::chrono::seconds(60));

/// The estimate the results give for a choice label.
double estimate_of(const boost::json::object& results, const std::string& choice);

}  // namespace splitvote::testing
