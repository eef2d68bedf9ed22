#include "splitvote/ingest/problems.hpp"

namespace splitvote::ingest::problems {

using http::problem_error;

problem_error invalid_request(std::string detail) {
  return {400, "invalid-request", "Invalid request", std::move(detail)};
}

problem_error unauthorized(std::string detail) {
  problem_error e(401, "unauthorized", "Unauthorized", std::move(detail));
  e.headers.emplace_back("WWW-Authenticate", "Bearer");
  return e;
}

problem_error invalid_token(const std::string& reason) {
  problem_error e(401, "invalid-token", "Invalid token", "the JWT was refused (" + reason + ")");
  e.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  return e;
}

problem_error forbidden(std::string detail) { return {403, "forbidden", "Forbidden", std::move(detail)}; }

problem_error not_eligible() {
  return {403, "not-eligible", "Not eligible", "this actor is not on the poll's list of eligible actors"};
}

problem_error actor_mismatch(std::string detail) {
  return {403, "actor-mismatch", "Actor mismatch", std::move(detail)};
}

problem_error poll_not_found(std::string_view id) {
  return {404, "poll-not-found", "Poll not found", "no poll has the id '" + std::string(id.substr(0, 64)) + "'"};
}

problem_error already_voted() {
  return {409, "already-voted", "Already voted", "this actor has already voted in this poll"};
}

problem_error poll_closed() { return {410, "poll-closed", "Poll closed", "this poll no longer accepts votes"}; }

problem_error unsupported_media_type(std::string detail) {
  return {415, "unsupported-media-type", "Unsupported media type", std::move(detail)};
}

problem_error unknown_choice() { return {422, "unknown-choice", "Unknown choice", "the poll has no such choice"}; }

problem_error jwt_unavailable_for_creation() {
  return {422, "jwt-unavailable", "JWT verification unavailable",
          "this server cannot verify JWTs: choose voter_auth open or tokens"};
}

problem_error jwt_unavailable_for_vote() {
  return problem_error(503, "jwt-unavailable", "JWT verification unavailable",
                       "this server cannot verify JWTs; the vote was not counted, try again")
      .retry_after();
}

problem_error unavailable(std::string detail) {
  return problem_error(503, "unavailable", "Service unavailable", std::move(detail)).retry_after();
}

problem_error outcome_unknown() {
  return problem_error(503, "outcome-unknown", "Outcome unknown",
                       "Kafka did not confirm the vote in time; it may still be counted, do not vote again")
      .retry_after();
}

problem_error timeout() {
  return problem_error(503, "timeout", "Service unavailable",
                       "the request did not complete in time (PostgreSQL or Kafka is slow); try again")
      .retry_after();
}

problem_error starting() { return {503, "starting", "Starting", "the service is still starting"}; }

problem_error not_ready(std::string detail) {
  return problem_error(503, "not-ready", "Not ready", std::move(detail)).retry_after();
}

}  // namespace splitvote::ingest::problems
