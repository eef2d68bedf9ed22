// Who may do what, end to end: each endpoint with no, a wrong, another poll's and the right credential.
#include "splitvote/testing/answers.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/stack.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <optional>
#include <string>

using namespace splitvote::testing;
using svc = stack::service;

namespace {

const std::string wrong_token(64, 'f');  // well-formed, belongs to nobody

struct caller {
  unsigned short port;

  http_response operator()(const std::string& method, const std::string& target, const std::string& body,
                           const std::optional<std::string>& token) const {
    std::map<std::string, std::string> headers;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    if (token) headers["Authorization"] = "Bearer " + *token;
    http_client c(port);
    return c.request(method, target, body, headers);
  }
};

}  // namespace

TEST_CASE("the authorization matrix: every endpoint against no, wrong, other poll's and right credentials",
          "[e2e][authz]") {
  stack s("e2e-authz");
  s.start_all();
  const caller call{s.port()};
  const auto a = create_poll(s.port(), R"({"title":"A","choices":["yes","no"],"eligible_actors":["ann","ben","cat"],
      "privacy":{"decoys":{"distribution":"none"}}})");
  const auto b = create_poll(s.port(), R"({"title":"B","choices":["yes","no"],"eligible_actors":["ann","dan"]})");
  REQUIRE(a.voter_tokens.size() == 3);
  REQUIRE(b.voter_tokens.size() == 2);
  for (const auto& token : {a.admin_token, a.voter_tokens.at("ann"), b.voter_tokens.at("ann")})
    CHECK(token.size() == 64);  // 256 bits, hex
  const std::string a_votes = "/v1/polls/" + a.id + "/votes", a_results = "/v1/polls/" + a.id + "/results";
  const std::string vote_yes = R"({"choice":"yes"})";

  SECTION("reading a poll needs nothing and never shows a token") {
    for (const auto& token :
         std::vector<std::optional<std::string>>{std::nullopt, wrong_token, b.admin_token, a.admin_token}) {
      const auto r = call("GET", "/v1/polls/" + a.id, "", token);
      CHECK(r.status == 200);
      CHECK_FALSE(r.json().as_object().contains("admin_token"));
      CHECK_FALSE(r.json().as_object().contains("voter_tokens"));
      CHECK(r.body.find(a.admin_token) == std::string::npos);
      CHECK(r.body.find(a.voter_tokens.at("ann")) == std::string::npos);
      CHECK(r.json().at("voter_auth").at("mode").as_string() == "tokens");
      CHECK(r.json().at("results_visibility").as_string() == "admin");
    }
  }

  SECTION(
      "votes of a tokens poll: 401 without, 403 wrong / other poll's / admin token / other actor, 202 right, 409 "
      "replayed") {
    const auto none = call("POST", a_votes, vote_yes, std::nullopt);
    CHECK(none.status == 401);
    CHECK(none.header("www-authenticate") == "Bearer");
    CHECK(call("POST", a_votes, vote_yes, "").status == 401);  // "Bearer " with nothing after it
    CHECK(call("POST", a_votes, vote_yes, wrong_token).status == 403);
    CHECK(call("POST", a_votes, vote_yes, b.voter_tokens.at("ann")).status == 403);  // ann's token of poll B
    CHECK(call("POST", a_votes, vote_yes, a.admin_token).status == 403);
    const auto mismatch = call("POST", a_votes, R"({"actor_id":"cat","choice":"yes"})", a.voter_tokens.at("ben"));
    CHECK(mismatch.status == 403);
    CHECK(problem_type(mismatch) == "/problems/actor-mismatch");
    // Refusals lose nothing: ben still has his vote; an unknown choice is 422 after the token checks out.
    CHECK(call("POST", a_votes, R"({"choice":"maybe"})", a.voter_tokens.at("ben")).status == 422);
    CHECK(call("POST", a_votes, vote_yes, a.voter_tokens.at("ben")).status == 202);
    CHECK(call("POST", a_votes, R"({"actor_id":"ann","choice":"no"})", a.voter_tokens.at("ann")).status == 202);
    // Replaying a token is a second vote of the same actor.
    CHECK(call("POST", a_votes, vote_yes, a.voter_tokens.at("ann")).status == 409);
    CHECK(call("POST", a_votes, R"({"actor_id":"ann","choice":"yes"})", a.voter_tokens.at("ann")).status == 409);
    // Naming the actor without the token does not work on a tokens poll.
    CHECK(call("POST", a_votes, R"({"actor_id":"cat","choice":"yes"})", std::nullopt).status == 401);
    // The tokens of another poll vote there, not here.
    CHECK(call("POST", "/v1/polls/" + b.id + "/votes", vote_yes, b.voter_tokens.at("ann")).status == 202);

    const auto results = await_results(s.port(), a, [](const auto& r) {
      return r.at("participation").at("unique_actors").as_int64() == 2 && r.at("consistency").at("complete").as_bool();
    });
    INFO(boost::json::serialize(results));
    CHECK(results.at("participation").at("submissions").as_int64() == 2);
    CHECK(results.at("participation").at("duplicates").as_int64() == 0);
  }

  SECTION("results and close: the admin token of this poll only; after close as the poll says") {
    for (const auto& [what, target, method] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"results", a_results, "GET"}, {"close", "/v1/polls/" + a.id + "/close", "POST"}}) {
      INFO(what);
      CHECK(call(method, target, "", std::nullopt).status == 401);
      CHECK(call(method, target, "", wrong_token).status == 403);
      CHECK(call(method, target, "", b.admin_token).status == 403);             // another poll's admin token
      CHECK(call(method, target, "", a.voter_tokens.at("ann")).status == 403);  // a voter's token
    }
    CHECK(call("GET", a_results, "", a.admin_token).status == 200);
    CHECK(call("POST", "/v1/polls/" + a.id + "/close", "", a.admin_token).status == 200);
    // Closed, results_visibility admin (the default): still the admin token only.
    CHECK(call("GET", a_results, "", std::nullopt).status == 401);
    CHECK(call("GET", a_results, "", b.admin_token).status == 403);
    CHECK(call("GET", a_results, "", a.admin_token).status == 200);
    CHECK(call("POST", a_votes, vote_yes, a.voter_tokens.at("cat")).status == 410);

    // results_visibility public: the admin token until the close, anyone after it.
    const auto pub = create_poll(s.port(), R"({"title":"P","choices":["yes","no"],"results_visibility":"public"})");
    const std::string pub_results = "/v1/polls/" + pub.id + "/results";
    CHECK(call("GET", pub_results, "", std::nullopt).status == 401);
    CHECK(call("GET", pub_results, "", a.admin_token).status == 403);
    CHECK(call("POST", "/v1/polls/" + pub.id + "/close", "", a.admin_token).status == 403);
    CHECK(call("POST", "/v1/polls/" + pub.id + "/close", "", pub.admin_token).status == 200);
    for (const auto& token :
         std::vector<std::optional<std::string>>{std::nullopt, wrong_token, a.admin_token, pub.admin_token})
      CHECK(call("GET", pub_results, "", token).status == 200);
  }

  SECTION("a rotated admin token works at once and the old one nowhere, on every instance") {
    s.start(svc::ingest, 1);
    const caller other{s.port(1)};
    const std::string rotate = "/v1/polls/" + a.id + "/admin-token", close = "/v1/polls/" + a.id + "/close";
    CHECK(other("GET", a_results, "", a.admin_token).status == 200);  // instance 1 has the poll cached now
    CHECK(call("POST", rotate, "", std::nullopt).status == 401);
    CHECK(call("POST", rotate, "", wrong_token).status == 403);
    CHECK(call("POST", rotate, "", b.admin_token).status == 403);             // another poll's admin token
    CHECK(call("POST", rotate, "", a.voter_tokens.at("ann")).status == 403);  // a voter's token
    const auto r = call("POST", rotate, "", a.admin_token);
    REQUIRE(r.status == 200);
    const std::string fresh(r.json().at("admin_token").as_string());
    CHECK(fresh.size() == 64);
    CHECK(fresh != a.admin_token);
    for (const auto& on : {call, other}) {
      INFO("instance on port " << on.port);
      CHECK(on("GET", a_results, "", a.admin_token).status == 403);
      CHECK(on("POST", close, "", a.admin_token).status == 403);
      CHECK(on("POST", rotate, "", a.admin_token).status == 403);
      CHECK(on("GET", a_results, "", fresh).status == 200);
    }
    CHECK(call("GET", "/v1/polls/" + a.id, "", std::nullopt).body.find(fresh) == std::string::npos);
    CHECK(other("POST", close, "", fresh).status == 200);
  }

  SECTION("open polls: the body names the actor; with a list, only listed actors; tokens do not matter") {
    const auto open = create_poll(s.port(), R"({"title":"O","choices":["yes","no"]})");
    CHECK(open.voter_tokens.empty());
    const std::string votes = open.votes_path();
    const auto anonymous = call("POST", votes, vote_yes, std::nullopt);  // no actor id at all
    CHECK(anonymous.status == 400);
    CHECK(problem_type(anonymous) == "/problems/invalid-request");  // bad-request is malformed HTTP
    CHECK(call("POST", votes, R"({"actor_id":"zoe","choice":"yes"})", std::nullopt).status == 202);
    CHECK(call("POST", votes, R"({"actor_id":"zoe","choice":"no"})", a.voter_tokens.at("ann")).status == 409);
    const auto listed = create_poll(
        s.port(), R"({"title":"L","choices":["yes","no"],"eligible_actors":["ann"],"voter_auth":{"mode":"open"}})");
    CHECK(listed.voter_tokens.empty());
    CHECK(call("POST", "/v1/polls/" + listed.id + "/votes", R"({"actor_id":"eve","choice":"yes"})", std::nullopt)
              .status == 403);
    CHECK(call("POST", "/v1/polls/" + listed.id + "/votes", R"({"actor_id":"ann","choice":"yes"})", std::nullopt)
              .status == 202);
    // Without auth.jwt.* this server cannot check JWTs, so it makes no jwt polls.
    const auto jwt =
        call("POST", "/v1/polls", R"({"title":"J","choices":["yes","no"],"voter_auth":{"mode":"jwt"}})", std::nullopt);
    CHECK(jwt.status == 422);
    CHECK(problem_type(jwt) == "/problems/jwt-unavailable");
    CHECK(jwt.body.find("auth.jwt") == std::string::npos);  // the settings are the operator's business
  }

  SECTION("tokens and admin tokens are stored only as keyed hashes") {
    pqxx::connection db(s.main_dsn());
    pqxx::work tx(db);
    const auto dump =
        tx.exec_params1(
              "SELECT string_agg(p::text, ' ') || (SELECT string_agg(e::text, ' ') FROM catalog.eligible_actors e)"
              " FROM catalog.polls p")
            .at(0)
            .as<std::string>();
    for (const auto* poll : {&a, &b}) {
      CHECK(dump.find(poll->admin_token) == std::string::npos);
      for (const auto& [actor, token] : poll->voter_tokens) {
        CHECK(dump.find(token) == std::string::npos);
        CHECK(dump.find(actor) == std::string::npos);  // ann, ben, dan: not hex, in no title or setting
      }
    }
    // Each of A's tokens has its own hash; none of them is the plain SHA-256 of the token.
    CHECK(
        tx.exec_params1("SELECT count(DISTINCT token_hash) FROM catalog.eligible_actors WHERE poll_id = $1::uuid", a.id)
            .at(0)
            .as<int>() == 3);
    CHECK(tx.exec_params1("SELECT count(*) FROM catalog.eligible_actors WHERE poll_id = $1::uuid"
                          " AND token_hash = sha256(convert_to($2, 'UTF8'))",
                          a.id, a.voter_tokens.at("ann"))
              .at(0)
              .as<int>() == 0);
    CHECK(tx.exec_params1("SELECT token_scheme FROM catalog.polls WHERE id = $1::uuid", a.id).at(0).as<std::string>() ==
          "hmac-sha256");
  }
}
