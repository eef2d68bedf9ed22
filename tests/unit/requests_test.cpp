#include "splitvote/ingest/requests.hpp"
#include "splitvote/http/message.hpp"

#include <catch2/catch.hpp>

#include <initializer_list>

using namespace splitvote;
using ingest::parse_poll_request;
using ingest::parse_vote_request;

namespace {
unsigned status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const http::problem_error& e) {
    return e.status;
  }
  return 0;
}
/// Whether each of `times` parses as an RFC 3339 time (`parses`) or is refused.
void check_rfc3339(std::initializer_list<const char*> times, bool parses) {
  for (const char* time : times) {
    INFO(time);
    CHECK(ingest::parse_rfc3339(time).has_value() == parses);
  }
}

}  // namespace

TEST_CASE("a full poll request parses", "[unit]") {
  const auto r = parse_poll_request(R"({"title":"Lunch","choices":["pizza","sushi"],
      "eligible_actors":["a","b","a"],
      "privacy":{"decoys":{"distribution":"uniform","min":1,"max":3}},
      "closes_at":"2030-01-31T18:00:00+01:00"})");
  CHECK(r.title == "Lunch");
  CHECK(r.choices == std::vector<std::string>{"pizza", "sushi"});
  CHECK(r.eligible_actors.size() == 2);  // de-duplicated
  CHECK(r.privacy.decoys.distribution == privacy::decoy_distribution::uniform);
  CHECK(r.privacy.decoys.max == 3);
  CHECK(r.privacy.rr == privacy::policy::defaults().rr);  // parts not given keep their default
  REQUIRE(r.closes_at);
  CHECK(ingest::format_rfc3339(*r.closes_at) == "2030-01-31T17:00:00Z");
}

TEST_CASE("omitted privacy means the product defaults: decoys, randomized response and noise on", "[unit]") {
  const auto r = parse_poll_request(R"({"title":"t","choices":["a","b"]})");
  CHECK(r.privacy == privacy::policy::defaults());
  CHECK(r.privacy.decoys.distribution != privacy::decoy_distribution::none);
  CHECK(r.privacy.rr.p > 0);
  CHECK(r.privacy.noise.mechanism == privacy::noise_mechanism::discrete_laplace);
  CHECK(r.privacy.budget == Approx(10 * r.privacy.release_cost()));
}

TEST_CASE("randomized response and release noise parse and validate", "[unit]") {
  const auto r = parse_poll_request(R"({"title":"t","choices":["a","b"],"privacy":{
      "randomized_response":{"p":0.2},
      "release_noise":{"mechanism":"discrete_gaussian","epsilon":0.5,"delta":1e-6,"budget":5}}})");
  CHECK(r.privacy.rr.p == 0.2);
  CHECK(r.privacy.noise.mechanism == privacy::noise_mechanism::discrete_gaussian);
  CHECK(r.privacy.noise.delta == 1e-6);
  CHECK(r.privacy.budget == 5);
  const auto off =
      parse_poll_request(R"({"title":"t","choices":["a","b"],"privacy":{"release_noise":{"mechanism":"none"}}})");
  CHECK(off.privacy.budget == 0);
  const char* bad[] = {
      R"({"title":"t","choices":["a","b"],"privacy":{"randomized_response":{"p":1}}})",
      R"({"title":"t","choices":["a","b"],"privacy":{"randomized_response":{"p":"x"}}})",
      R"({"title":"t","choices":["a","b"],"privacy":{"randomized_response":{"p":1e-7}}})",
      R"({"title":"t","choices":["a","b"],"privacy":{"release_noise":{"mechanism":"laplace"}}})",
      R"({"title":"t","choices":["a","b"],"privacy":{"release_noise":{"mechanism":"discrete_laplace"}}})",
      R"({"title":"t","choices":["a","b"],"privacy":{"release_noise":{"mechanism":"discrete_gaussian","epsilon":0.5}}})",
      R"({"title":"t","choices":["a","b"],"privacy":{"release_noise":{"mechanism":"discrete_laplace","epsilon":1,"budget":1}}})",
  };
  for (const char* body : bad) {
    INFO(body);
    CHECK(status_of([&] { parse_poll_request(body); }) == 400);
  }
}

TEST_CASE("bad poll requests are 400 with a reason", "[unit]") {
  const char* bad[] = {
      "",                                                    // empty
      "{",                                                   // truncated
      "[]",                                                  // not an object
      R"({"title":"t"})",                                    // no choices
      R"({"title":"t","choices":["a"]})",                    // one choice
      R"({"title":"t","choices":["a","a"]})",                // repeated
      R"({"title":"t","choices":["a",""]})",                 // empty label
      R"({"title":"t","choices":["a",3]})",                  // wrong type
      R"({"title":5,"choices":["a","b"]})",                  // wrong type
      R"({"title":"t","choices":["a","b"],"color":"red"})",  // unknown field
      R"({"title":"t","choices":["a","b"],"privacy":{"decoys":{"distribution":"fixed","k":65}}})",
      R"({"title":"t","choices":["a","b"],"privacy":{"decoys":{"distribution":"gauss"}}})",
      R"({"title":"t","choices":["a","b"],"privacy":{"decoys":{"distribution":"fixed","k":-1}}})",
      R"({"title":"t","choices":["a","b"],"closes_at":"tomorrow"})",
      R"({"title":"t","choices":["a","b"],"closes_at":"2030-02-31T00:00:00Z"})",
      "{\"title\":\"\xff\xfe\",\"choices\":[\"a\",\"b\"]}",  // invalid UTF-8
  };
  for (const char* body : bad) {
    INFO(body);
    CHECK(status_of([&] { parse_poll_request(body); }) == 400);
  }
}

TEST_CASE("vote requests need a choice and may name the actor", "[unit]") {
  const auto v = parse_vote_request(R"({"actor_id":"alice","choice":"pizza"})");
  CHECK(v.actor_id == "alice");
  CHECK(v.choice == "pizza");
  CHECK_FALSE(parse_vote_request(R"({"choice":"pizza"})").actor_id);  // the token or JWT names the actor
  CHECK(status_of([] { parse_vote_request(R"({"actor_id":"","choice":"x"})"); }) == 400);
  CHECK(status_of([] { parse_vote_request(R"({"actor_id":"alice"})"); }) == 400);
  CHECK(status_of([] { parse_vote_request(R"({"actor_id":1,"choice":"x"})"); }) == 400);
  CHECK(status_of([] { parse_vote_request(R"({"actor_id":"a","choice":"x","extra":1})"); }) == 400);
  CHECK(status_of([] {
          parse_vote_request(std::string(R"({"actor_id":")") + std::string(300, 'x') + R"(","choice":"x"})");
        }) == 400);
}

TEST_CASE("voter_auth defaults to tokens with eligible actors, open without; results_visibility to admin", "[unit]") {
  using catalog::voter_auth;
  CHECK(parse_poll_request(R"({"title":"t","choices":["a","b"]})").voter_auth == voter_auth::open);
  CHECK(parse_poll_request(R"({"title":"t","choices":["a","b"],"eligible_actors":["x"]})").voter_auth ==
        voter_auth::tokens);
  CHECK(parse_poll_request(R"({"title":"t","choices":["a","b"],"eligible_actors":["x"],"voter_auth":{"mode":"open"}})")
            .voter_auth == voter_auth::open);
  CHECK(parse_poll_request(R"({"title":"t","choices":["a","b"],"voter_auth":{"mode":"jwt"}})").voter_auth ==
        voter_auth::jwt);
  CHECK(parse_poll_request(R"({"title":"t","choices":["a","b"]})").results_visibility ==
        catalog::results_visibility::admin);
  CHECK(parse_poll_request(R"({"title":"t","choices":["a","b"],"results_visibility":"public"})").results_visibility ==
        catalog::results_visibility::open_to_all);
  for (const char* body : {
           R"({"title":"t","choices":["a","b"],"voter_auth":{"mode":"tokens"}})",  // tokens for nobody
           R"({"title":"t","choices":["a","b"],"voter_auth":{"mode":"none"}})",
           R"({"title":"t","choices":["a","b"],"voter_auth":"open"})",
           R"({"title":"t","choices":["a","b"],"voter_auth":{}})",
           R"({"title":"t","choices":["a","b"],"voter_auth":{"mode":"open","alg":"none"}})",
           R"({"title":"t","choices":["a","b"],"results_visibility":"everyone"})",
           R"({"title":"t","choices":["a","b"],"results_visibility":true})",
       })
    CHECK(status_of([&] { parse_poll_request(body); }) == 400);
}

TEST_CASE("a key repeated in one object is refused, at any depth and however it is escaped", "[unit]") {
  CHECK(status_of([] { parse_vote_request(R"({"actor_id":"a","choice":"x","choice":"y"})"); }) == 400);
  CHECK(status_of([] { parse_vote_request(R"({"actor_id":"a","choice":"x","ch\u006fice":"y"})"); }) == 400);
  CHECK(
      status_of([] {
        parse_poll_request(
            R"({"title":"t","choices":["a","b"],"privacy":{"decoys":{"distribution":"none","distribution":"fixed"}}})");
      }) == 400);
  try {
    parse_vote_request(R"({"actor_id":"a","actor_id":"b","choice":"x"})");
    FAIL("a duplicate key was accepted");
  } catch (const http::problem_error& e) {
    CHECK(e.detail.find("'actor_id' appears twice") != std::string::npos);
  }
  // The same key in sibling or nested objects is no duplicate.
  CHECK(
      parse_poll_request(
          R"({"title":"t","choices":["a","b"],"privacy":{"decoys":{"distribution":"none"},"release_noise":{"mechanism":"none"}}})")
          .choices.size() == 2);
}

TEST_CASE("only application/json bodies are accepted", "[unit]") {
  CHECK(status_of([] { ingest::require_json(std::string_view("application/json")); }) == 0);
  CHECK(status_of([] { ingest::require_json(std::string_view("Application/JSON; charset=utf-8")); }) == 0);
  CHECK(status_of([] { ingest::require_json(std::string_view("text/plain")); }) == 415);
  CHECK(status_of([] { ingest::require_json(std::nullopt); }) == 415);
}

TEST_CASE("RFC 3339 parsing", "[unit]") {
  check_rfc3339({"2026-11-23T12:00:00Z", "2026-11-23T12:00:00.123456Z", "2026-11-23t12:00:00-05:30"}, true);
  check_rfc3339({"2026-11-23T12:00:00", "2026-13-01T00:00:00Z", "2026-11-23T12:00:00Zjunk"}, false);
  CHECK(ingest::format_rfc3339(*ingest::parse_rfc3339("2026-11-23T12:00:00+02:00")) == "2026-11-23T10:00:00Z");
}

// Found by tests/fuzz/requests_fuzz.cpp: a year past 2262 overflowed system_clock (UB) in from_time_t.
TEST_CASE("RFC 3339 times that system_clock cannot hold are refused", "[unit]") {
  check_rfc3339({"2365-01-31T18:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"}, false);
  check_rfc3339({"2200-01-01T00:00:00Z"}, true);
  try {
    parse_poll_request(R"({"title":"t","choices":["a","b"],"closes_at":"2365-01-31T18:00:00Z"})");
    FAIL("expected a problem");
  } catch (const http::problem_error& e) {
    CHECK(e.status == 400);
    CHECK(e.detail.find("closes_at must be an RFC 3339") != std::string::npos);
  }
}

TEST_CASE("RFC 3339 fields are digits, not what sscanf's %d also takes", "[unit]") {
  check_rfc3339({"2030-01-01T-1:00:00Z", "2030-01-01T 1:00:00Z", "+030-01-01T01:00:00Z", "2030-01-01T01:00:00+-1:00"},
                false);
  check_rfc3339({"2030-01-01 01:00:00+01:00"}, true);
}
