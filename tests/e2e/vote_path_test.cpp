// End to end with the real binaries: 1,000 votes in, exact results out, every bad request refused.
#include "splitvote/testing/answers.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/stack.hpp"

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>

using namespace splitvote::testing;
using svc = stack::service;

namespace {

std::vector<vote> known_split(const std::string& prefix, int pizza, int sushi, int salad) {
  std::vector<vote> votes;
  for (int i = 0; i < pizza + sushi + salad; ++i)
    votes.push_back({prefix + std::to_string(i), i < pizza ? "pizza" : i < pizza + sushi ? "sushi" : "salad"});
  return votes;
}

}  // namespace

TEST_CASE("1,000 actors vote with a known split and the results match it exactly", "[e2e][vote-path]") {
  stack s("e2e-vote-path");
  const auto poll = start_with_poll(s, exact_lunch_poll);

  const auto cast = cast_votes(s.port(), poll.id, known_split("actor-", 500, 300, 200));
  REQUIRE(cast.accepted() == 1000);
  std::cout << "e2e vote path: 1000 votes accepted (202) in " << cast.seconds << " s = " << 1000 / cast.seconds
            << " votes/s over 4 connections\n";

  const auto stored_from = std::chrono::steady_clock::now();
  const auto results = await_results(s.port(), poll, [](const auto& r) { return settled(r, 1000); });
  std::cout << "e2e vote path: stores complete "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - stored_from).count()
            << " s after the last 202\n";
  check_counts(results, 500, 300, 200);
  CHECK(results.at("consistency").as_object().at("stores_agree").as_bool());

  http_client c(s.port());
  const auto again = c.post(poll.votes_path(), R"({"actor_id":"actor-7","choice":"salad"})");
  CHECK(again.status == 409);
  CHECK(again.header("content-type") == "application/problem+json");

  {  // once the pollbook holds them, ingest forgets its reservations and the pollbook refuses alone
    const bool forgotten =
        eventually([&] { return metric(s.port(), "splitvote_reserved_voters") == 0; }, std::chrono::seconds(10));
    INFO("splitvote_reserved_voters: " << metric(s.port(), "splitvote_reserved_voters") << " (-1: missing)");
    CHECK(forgotten);
    int refused = 0;
    for (int i = 0; i < 100; ++i)
      refused += c.post(poll.votes_path(), R"({"actor_id":"actor-)" + std::to_string(i * 10) + R"(","choice":"salad"})")
                     .status == 409;
    CHECK(refused == 100);
  }

  {  // every bad request gets its status and a problem body, and nothing is counted
    const auto restricted = create_poll(
        s.port(),
        R"({"title":"Board","choices":["yes","no"],"eligible_actors":["ann","ben"],"voter_auth":{"mode":"open"}})");
    const auto closed = create_poll(s.port(), R"({"title":"Old","choices":["yes","no"]})");
    REQUIRE(
        c.request("POST", "/v1/polls/" + closed.id + "/close", "", {{"Authorization", "Bearer " + closed.admin_token}})
            .status == 200);

    const std::string votes = poll.votes_path();
    const std::map<std::string, std::string> json_type{{"Content-Type", "application/json"}};
    const std::map<std::string, std::string> wrong_token{{"Authorization", "Bearer nope"}};
    struct bad_case {
      const char* what;
      std::string method, target, body;
      std::map<std::string, std::string> headers;
      unsigned status;
    };
    const std::vector<bad_case> cases = {
        {"malformed JSON", "POST", votes, "{\"actor_id\":", json_type, 400},
        {"wrong field type", "POST", votes, R"({"actor_id":5,"choice":"pizza"})", json_type, 400},
        {"missing field", "POST", votes, R"({"choice":"pizza"})", json_type, 400},
        {"unknown field", "POST", votes, R"({"actor_id":"x1","choice":"pizza","weight":2})", json_type, 400},
        {"invalid UTF-8", "POST", votes, "{\"actor_id\":\"\xc3\x28\",\"choice\":\"pizza\"}", json_type, 400},
        {"not eligible", "POST", "/v1/polls/" + restricted.id + "/votes", R"({"actor_id":"zed","choice":"yes"})",
         json_type, 403},
        {"no such poll", "POST", "/v1/polls/00000000-0000-0000-0000-000000000000/votes",
         R"({"actor_id":"x2","choice":"pizza"})", json_type, 404},
        {"path traversal id", "POST", "/v1/polls/..%2F..%2Fetc%2Fpasswd/votes", R"({"actor_id":"x3","choice":"pizza"})",
         json_type, 404},
        {"already voted", "POST", votes, R"({"actor_id":"actor-1","choice":"pizza"})", json_type, 409},
        {"closed poll", "POST", "/v1/polls/" + closed.id + "/votes", R"({"actor_id":"x4","choice":"yes"})", json_type,
         410},
        {"body too large", "POST", votes, R"({"actor_id":")" + std::string(8000, 'a') + R"(","choice":"pizza"})",
         json_type, 413},
        {"not JSON",
         "POST",
         votes,
         "actor_id=x5&choice=pizza",
         {{"Content-Type", "application/x-www-form-urlencoded"}},
         415},
        {"unknown choice", "POST", votes, R"({"actor_id":"x6","choice":"tacos"})", json_type, 422},
        {"wrong method", "DELETE", votes, "", {}, 405},
        {"results without token", "GET", "/v1/polls/" + poll.id + "/results", "", {}, 401},
        {"results with a wrong token", "GET", "/v1/polls/" + poll.id + "/results", "", wrong_token, 403},
        {"close with a wrong token", "POST", "/v1/polls/" + poll.id + "/close", "", wrong_token, 403},
        {"unknown route", "GET", "/v2/everything", "", {}, 404},
        {"closes_at in the past", "POST", "/v1/polls",
         R"({"title":"t","choices":["a","b"],"closes_at":"2001-01-01T00:00:00Z"})", json_type, 400},
    };
    for (const auto& bc : cases) {
      INFO(bc.what);
      http_client fresh(s.port());
      const auto r = fresh.request(bc.method, bc.target, bc.body, bc.headers);
      CHECK(r.status == bc.status);
      CHECK(r.header("content-type") == "application/problem+json");
      const auto body = r.json().as_object();
      CHECK(body.at("status").as_int64() == bc.status);
      CHECK(!body.at("title").as_string().empty());
      CHECK(!body.at("detail").as_string().empty());
      CHECK(body.at("type").as_string().starts_with("/problems/"));
    }
    // A body above the poll route's 4 MiB is refused from its Content-Length alone (a
    // client still sending it would see the connection close, so only the headers go).
    const auto too_big = http_client::raw(
        s.port(),
        "POST /v1/polls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5242880\r\n\r\n");
    CHECK(too_big.starts_with("HTTP/1.1 413"));
    CHECK(too_big.find("application/problem+json") != std::string::npos);
    // A large electorate (well above 64 KiB of body) is accepted on the poll route.
    std::string electorate = R"({"title":"Big","choices":["yes","no"],"eligible_actors":[)";
    for (int i = 0; i < 5000; ++i)
      electorate += (i ? ",\"" : "\"") + std::string("member-number-") + std::to_string(i) + "\"";
    electorate += "]}";
    REQUIRE(electorate.size() > 64 * 1024);
    const auto big = c.post("/v1/polls", electorate);
    CHECK(big.status == 201);
    CHECK(big.json().as_object().at("eligible").as_int64() == 5000);
    // With eligible actors the default is one voting token each, all different, shown once.
    const auto big_body = big.json().as_object();
    CHECK(big_body.at("voter_auth").at("mode").as_string() == "tokens");
    std::set<std::string> tokens, actors;
    for (const auto& t : big_body.at("voter_tokens").as_array()) {
      tokens.emplace(t.at("token").as_string());
      actors.emplace(t.at("actor_id").as_string());
    }
    CHECK(tokens.size() == 5000);
    CHECK(actors.size() == 5000);
    CHECK(c.get("/v1/polls/" + std::string(big_body.at("id").as_string())).body.find("voter_tokens") ==
          std::string::npos);
    // The restricted poll accepts its own actors.
    CHECK(c.post("/v1/polls/" + restricted.id + "/votes", R"({"actor_id":"ann","choice":"yes"})").status == 202);

    const auto after = await_results(s.port(), poll, [](const auto& r) { return settled(r, 1000); });
    check_counts(after, 500, 300, 200);
  }

  {  // with Kafka gone a vote is refused with 503 and Retry-After, and not counted
    s.stop_broker();
    const auto r = c.post(poll.votes_path(), R"({"actor_id":"late","choice":"pizza"})");
    CHECK(r.status == 503);
    CHECK(r.header("retry-after") == "1");
    CHECK(r.header("content-type") == "application/problem+json");
    check_counts(await_results(s.port(), poll, [](const auto&) { return true; }), 500, 300, 200);
  }
}

namespace {

/// `git rev-parse --short=12 HEAD` of the source tree, or "" without git or a checkout.
std::string git_head() {
  const std::string command = "git -C '" SPLITVOTE_E2E_SOURCE_DIR "' rev-parse --short=12 HEAD 2>/dev/null";
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(command.c_str(), "r"), &pclose);
  if (!pipe) return {};
  std::array<char, 64> line{};
  if (!std::fgets(line.data(), line.size(), pipe.get())) return {};
  std::string head(line.data());
  while (!head.empty() && std::isspace(static_cast<unsigned char>(head.back()))) head.pop_back();
  return head;
}

}  // namespace

TEST_CASE("probes and metrics answer", "[e2e][probes]") {
  stack s("e2e-probes");
  s.start_all();
  http_client c(s.port());
  CHECK(c.get("/livez").status == 200);
  CHECK(c.get("/readyz").status == 200);
  CHECK(c.get("/startupz").status == 200);
  const auto poll = create_poll(s.port(), exact_lunch_poll);
  CHECK(c.get("/v1/polls/" + poll.id).status == 200);

  // Which build answers: the project's version and the commit of this tree, also in each
  // service's first log line.
  const auto build = c.get("/v1/build-info");
  REQUIRE(build.status == 200);
  const auto info = build.json().as_object();
  CHECK(info.at("service").as_string() == "splitvote-ingest");
  CHECK(info.at("version").as_string() == SPLITVOTE_VERSION);
  const std::string commit(info.at("commit").as_string());
  if (const auto head = git_head(); !head.empty()) CHECK(commit.starts_with(head));
  for (auto who : {svc::ingest, svc::pollbook, svc::ballotbox})
    CHECK(s.wait_for_log(who, 0, "\"commit\":\"" + commit + "\""));

  const auto metrics = c.get("/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("splitvote_http_requests_total") != std::string::npos);
  CHECK(metrics.body.find("splitvote_http_request_duration_seconds_bucket") != std::string::npos);

  // The consumers serve probes and metrics of their own.
  for (auto who : {svc::pollbook, svc::ballotbox}) {
    REQUIRE(s.wait_for_log(who, 0, "partitions_assigned"));
    http_client p(s.probe_port(who));
    CHECK(p.get("/livez").status == 200);
    CHECK(eventually([&] { return http_client(s.probe_port(who)).get("/readyz").status == 200; },
                     std::chrono::seconds(10)));
    const auto m = p.get("/metrics");
    CHECK(m.status == 200);
    CHECK(m.body.find("splitvote_consumer_lag") != std::string::npos);
  }

  // SIGTERM: the ingest exits cleanly and quickly.
  CHECK(s.stop(svc::ingest, 0, 15, std::chrono::seconds(30)) == 0);
}
