// What the end-to-end tests check in an answer: problem bodies, security headers, exact counts.
#pragma once

#include "splitvote/testing/http_client.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace splitvote::testing {

/// A poll whose counts are exact (no decoys, no randomized response, no release noise), with
/// the choices pizza, sushi and salad.
extern const char* const exact_lunch_poll;

/// A vote's JSON body.
std::string vote_body(const std::string& actor, const std::string& choice = "pizza");

/// A problem+json answer with this status (and type, "/problems/<slug>", when given) and a detail.
void check_problem(const http_response& r, unsigned status, const std::string& type = {});
/// The problem's type, or a note of what the answer was instead.
std::string problem_type(const http_response& r);

/// Results in which both stores hold all `n` votes and the topic has no lag.
bool settled(const boost::json::object& results, std::int64_t n);
/// Exact counts of an exact_lunch_poll, every actor once.
void check_counts(const boost::json::object& results, std::int64_t pizza, std::int64_t sushi, std::int64_t salad);

/// One connection more than a limit the server has reached: answered `status`, a problem of
/// `type` with Retry-After: 1, to a raw GET /livez, then closed by the server.
void check_connection_refused(unsigned short port, unsigned status, const std::string& type);

/// The headers every answer carries, whatever its status (HSTS only over TLS).
void check_security_headers(const std::map<std::string, std::string>& headers, bool tls = false);
/// The headers of a raw HTTP response (names lower-cased).
std::map<std::string, std::string> raw_headers(const std::string& response);

}  // namespace splitvote::testing
