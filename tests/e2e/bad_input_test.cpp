// End to end: bad input gets its documented status and a problem body, and changes no count.
#include "splitvote/testing/answers.hpp"
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/raw_connection.hpp"
#include "splitvote/testing/stack.hpp"

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

using namespace splitvote::testing;
using namespace std::chrono_literals;
using svc = stack::service;

namespace {

/// The id with its first character percent-encoded ("%61bc..."): the same bytes to a
/// decoding router, another id to ours.
std::string percent_encode_first(const std::string& id) {
  char encoded[4];
  std::snprintf(encoded, sizeof encoded, "%%%02x", static_cast<unsigned char>(id[0]));
  return encoded + id.substr(1);
}

}  // namespace

TEST_CASE("bad input gets its documented status and a problem body, and leaves the counts unchanged",
          "[e2e][bad-input]") {
  stack s("e2e-bad-input");
  const auto poll = start_with_poll(s, exact_lunch_poll);
  const auto other = create_poll(s.port(), exact_lunch_poll);  // for the inputs that must be accepted
  std::vector<vote> seed;
  for (int i = 0; i < 6; ++i)
    seed.push_back({"seed-" + std::to_string(i), i < 3 ? "pizza" : i < 5 ? "sushi" : "salad"});
  REQUIRE(cast_votes(s.port(), poll.id, seed).accepted() == 6);
  check_counts(await_results(s.port(), poll, [](const auto& r) { return settled(r, 6); }), 3, 2, 1);

  const std::string votes = poll.votes_path();
  const std::map<std::string, std::string> json_type{{"Content-Type", "application/json"}};
  struct bad_case {
    const char* what;
    std::string method, target, body;
    unsigned status;
    std::string type;  // the problem type, when the row pins it
  };
  const std::string long_id(300, 'x');  // above the 256-byte actor_id limit, below the 4 KiB body limit
  const std::vector<bad_case> cases = {
      {"truncated JSON", "POST", votes, R"({"actor_id":"b1","choice":"piz)", 400, "/problems/invalid-request"},
      {"truncated after a key", "POST", votes, R"({"actor_id")", 400, "/problems/invalid-request"},
      {"empty body", "POST", votes, "", 400, "/problems/invalid-request"},
      {"array body", "POST", votes, R"([{"actor_id":"b2","choice":"pizza"}])", 400, "/problems/invalid-request"},
      {"string body", "POST", votes, R"("pizza")", 400, "/problems/invalid-request"},
      {"trailing garbage", "POST", votes, R"({"actor_id":"b3","choice":"pizza"}xyz)", 400, "/problems/invalid-request"},
      {"two documents", "POST", votes, R"({"actor_id":"b4","choice":"pizza"}{"actor_id":"b5","choice":"pizza"})", 400,
       "/problems/invalid-request"},
      {"choice a number", "POST", votes, R"({"actor_id":"b6","choice":1})", 400, "/problems/invalid-request"},
      {"actor_id null", "POST", votes, R"({"actor_id":null,"choice":"pizza"})", 400, "/problems/invalid-request"},
      {"actor_id an array", "POST", votes, R"({"actor_id":["b7"],"choice":"pizza"})", 400, "/problems/invalid-request"},
      {"actor_id an object", "POST", votes, R"({"actor_id":{"id":"b8"},"choice":"pizza"})", 400,
       "/problems/invalid-request"},
      {"empty actor_id", "POST", votes, R"({"actor_id":"","choice":"pizza"})", 400, "/problems/invalid-request"},
      {"huge actor_id", "POST", votes, vote_body(long_id, "pizza"), 400, "/problems/invalid-request"},
      {"huge choice", "POST", votes, vote_body("b9", std::string(3000, 'p')), 400, "/problems/invalid-request"},
      {"actor_id above the body limit", "POST", votes, vote_body(std::string(5000, 'x'), "pizza"), 413,
       "/problems/body-too-large"},
      {"unknown field", "POST", votes, R"({"actor_id":"b10","choice":"pizza","weight":1000})", 400,
       "/problems/invalid-request"},
      {"unknown nested field", "POST", votes, R"({"actor_id":"b11","choice":"pizza","meta":{"x":1}})", 400,
       "/problems/invalid-request"},
      {"invalid UTF-8 in actor_id", "POST", votes, "{\"actor_id\":\"b12\xff\",\"choice\":\"pizza\"}", 400,
       "/problems/invalid-request"},
      {"overlong UTF-8 in actor_id", "POST", votes, "{\"actor_id\":\"\xc0\xaf\",\"choice\":\"pizza\"}", 400,
       "/problems/invalid-request"},
      {"UTF-16 surrogate in actor_id", "POST", votes, "{\"actor_id\":\"\xed\xa0\x80\",\"choice\":\"pizza\"}", 400,
       "/problems/invalid-request"},
      {"cut multi-byte character in actor_id", "POST", votes, "{\"actor_id\":\"b13\xe2\x82\",\"choice\":\"pizza\"}",
       400, "/problems/invalid-request"},
      {"invalid UTF-8 in choice", "POST", votes, "{\"actor_id\":\"b14\",\"choice\":\"pizz\xe0\"}", 400,
       "/problems/invalid-request"},
      {"lone surrogate escape", "POST", votes, R"({"actor_id":"\ud800","choice":"pizza"})", 400,
       "/problems/invalid-request"},
      {"duplicate actor_id", "POST", votes, R"({"actor_id":"b15","actor_id":"b16","choice":"pizza"})", 400,
       "/problems/invalid-request"},
      {"duplicate choice", "POST", votes, R"({"actor_id":"b17","choice":"pizza","choice":"salad"})", 400,
       "/problems/invalid-request"},
      {"duplicate key, escaped", "POST", votes, R"({"actor_id":"b18","choice":"pizza","\u0063hoice":"salad"})", 400,
       "/problems/invalid-request"},
      {"unknown choice", "POST", votes, vote_body("b19", "tacos"), 422, "/problems/unknown-choice"},
      {"choice differs in case", "POST", votes, vote_body("b20", "Pizza"), 422, "/problems/unknown-choice"},
      {"already voted", "POST", votes, vote_body("seed-0", "salad"), 409, "/problems/already-voted"},
      {"PUT on votes", "PUT", votes, vote_body("b21", "pizza"), 405, "/problems/method-not-allowed"},
      {"GET on votes", "GET", votes, "", 405, "/problems/method-not-allowed"},
      {"PATCH on polls", "PATCH", "/v1/polls", exact_lunch_poll, 405, "/problems/method-not-allowed"},
      {"DELETE on a poll", "DELETE", "/v1/polls/" + poll.id, "", 405, "/problems/method-not-allowed"},
      {"POST on a probe", "POST", "/livez", "", 405, "/problems/method-not-allowed"},
      {"dot-dot segment as the id", "POST", "/v1/polls/../votes", vote_body("b22", "pizza"), 404,
       "/problems/poll-not-found"},
      {"dot-dot to another collection", "GET", "/v1/polls/../polls", "", 404, "/problems/not-found"},
      {"dot-dot to another poll", "GET", "/v1/polls/" + poll.id + "/../" + other.id, "", 404, "/problems/not-found"},
      {"dot-dot out of results", "GET", "/v1/polls/" + poll.id + "/results/../close", "", 404, "/problems/not-found"},
      {"encoded dot-dot id", "POST", "/v1/polls/%2e%2e/votes", vote_body("b23", "pizza"), 404,
       "/problems/poll-not-found"},
      {"encoded dot-dot id, upper case", "GET", "/v1/polls/%2E%2E", "", 404, "/problems/poll-not-found"},
      {"encoded slash in the id", "GET", "/v1/polls/" + poll.id + "%2Fresults", "", 404, "/problems/poll-not-found"},
      {"encoded traversal to /etc", "POST", "/v1/polls/..%2F..%2F..%2Fetc%2Fpasswd/votes", vote_body("b24", "pizza"),
       404, "/problems/poll-not-found"},
      {"percent-encoded poll id", "POST", "/v1/polls/" + percent_encode_first(poll.id) + "/votes",
       vote_body("b25", "pizza"), 404, "/problems/poll-not-found"},
      {"backslash traversal", "GET", "/v1/polls/..\\..\\etc", "", 404, "/problems/poll-not-found"},
      {"upper-case poll id", "POST",
       "/v1/polls/" +
           [&] {
             std::string up = poll.id;
             for (auto& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
             return up;
           }() +
           "/votes",
       vote_body("b26", "pizza"), 404, "/problems/poll-not-found"},
  };
  for (const auto& bc : cases) {
    INFO(bc.what);
    http_client fresh(s.port());
    const auto r = fresh.request(bc.method, bc.target, bc.body, json_type);
    check_problem(r, bc.status, bc.type);
    if (bc.status == 405) CHECK(!r.header("allow").empty());
  }

  {  // chunked bodies: one within the limit counts like any vote, one above it is 413
    raw_connection ok(s.port());
    const std::string body = vote_body("chunked-1", "salad");
    ok.send("POST /v1/polls/" + other.id +
            "/votes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
            [&] {
              std::string chunks;
              for (std::size_t i = 0; i < body.size(); i += 7) {
                const auto part = body.substr(i, 7);
                char size[16];
                std::snprintf(size, sizeof size, "%zx", part.size());
                chunks += std::string(size) + "\r\n" + part + "\r\n";
              }
              return chunks + "0\r\n\r\n";
            }());
    CHECK(ok.read_until_closed(10s));
    CHECK(statuses(ok.received()) == std::vector<std::string>{"202"});

    raw_connection big(s.port());
    big.send("POST " + votes +
             " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 10 && !big.closed(); ++i) big.send("400\r\n" + std::string(1024, 'a') + "\r\n");
    CHECK(big.read_until_closed(10s));
    CHECK(statuses(big.received()) == std::vector<std::string>{"413"});
    CHECK(big.received().find("/problems/body-too-large") != std::string::npos);
  }
  {  // pipelined: three requests in one write (a good vote, a bad one, a good one) answered in order
    raw_connection conn(s.port());
    conn.send(raw_vote(other.id, vote_body("piped-1", "pizza"), "X-Request-Id: first-1\r\n") +
              raw_vote(other.id, R"({"actor_id":)", "X-Request-Id: second-2\r\n") +
              raw_vote(other.id, vote_body("piped-2", "sushi"), "X-Request-Id: third-3\r\nConnection: close\r\n"));
    CHECK(conn.read_until_closed(10s));
    const auto& got = conn.received();
    INFO(got);
    CHECK(statuses(got) == std::vector<std::string>{"202", "400", "202"});
    const auto first = got.find("first-1"), second = got.find("second-2"), third = got.find("third-3");
    CHECK(first != std::string::npos);
    CHECK(second != std::string::npos);
    CHECK(third != std::string::npos);
    CHECK(first < second);
    CHECK(second < third);
  }
  {  // an unknown method over raw HTTP
    raw_connection conn(s.port());
    conn.send("BREW " + votes + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(conn.read_until_closed(10s));
    CHECK(statuses(conn.received()) == std::vector<std::string>{"405"});
    CHECK(conn.received().find("Allow: POST") != std::string::npos);
  }

  check_counts(await_results(s.port(), poll, [](const auto& r) { return settled(r, 6); }), 3, 2, 1);
  check_counts(await_results(s.port(), other, [](const auto& r) { return settled(r, 3); }), 1, 1, 1);
  CHECK(s.process(svc::ingest)->running());
}
