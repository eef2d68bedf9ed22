// The ingest API's documented problems (docs/openapi.yaml), one named constructor each.
#pragma once

#include "splitvote/http/message.hpp"

#include <string>
#include <string_view>

namespace splitvote::ingest::problems {

// 400: a well-formed HTTP request whose body or query is not what the route takes (a missing
// field included). Malformed HTTP itself is the server's `bad-request`.
http::problem_error invalid_request(std::string detail);
// 401, with WWW-Authenticate: Bearer.
http::problem_error unauthorized(std::string detail);
// 401: a JWT the verifier refused, with the reason.
http::problem_error invalid_token(const std::string& reason);
// 403.
http::problem_error forbidden(std::string detail);
http::problem_error not_eligible();
http::problem_error actor_mismatch(std::string detail);
// 404.
http::problem_error poll_not_found(std::string_view id);
// 409.
http::problem_error already_voted();
// 410.
http::problem_error poll_closed();
// 415.
http::problem_error unsupported_media_type(std::string detail);
// 422.
http::problem_error unknown_choice();
/// A poll asks for JWT voters and this server has no verifier: 422 when it is being created
/// (the creator chose what this deployment cannot check), 503 + Retry-After at a vote (this
/// instance is configured unlike the one that created the poll; another may serve it).
http::problem_error jwt_unavailable_for_creation();
http::problem_error jwt_unavailable_for_vote();
// 503 + Retry-After: nothing was counted, try again.
http::problem_error unavailable(std::string detail);
// 503 + Retry-After: Kafka has not confirmed the vote; it may still be counted.
http::problem_error outcome_unknown();
// 503 + Retry-After: not answered within http.request_timeout_ms.
http::problem_error timeout();
// 503, the probes: /livez while starting, /readyz (+ Retry-After) while not ready.
http::problem_error starting();
http::problem_error not_ready(std::string detail);

}  // namespace splitvote::ingest::problems
