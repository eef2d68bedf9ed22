// End to end: CORS for configured origins only, and the security headers on every answer.
#include "splitvote/testing/answers.hpp"
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/raw_connection.hpp"
#include "splitvote/testing/recordings.hpp"
#include "splitvote/testing/stack.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "splitvote/testing/jwt.hpp"

#include <openssl/x509.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

using namespace splitvote::testing;
using namespace std::chrono_literals;
using svc = stack::service;

namespace {

/// Two allowed origins, preflights cached for five minutes, and a per-address connection cap
/// low enough for the test to reach.
stack_options cors_settings() {
  stack_options o;
  o.ingest_env["SPLITVOTE_HTTP__CORS__ALLOWED_ORIGINS"] = "https://app.example,http://localhost:5173";
  o.ingest_env["SPLITVOTE_HTTP__CORS__MAX_AGE_S"] = "300";
  o.ingest_env["SPLITVOTE_HTTP__MAX_CONNECTIONS_PER_ADDRESS"] = "4";
  return o;
}

}  // namespace

TEST_CASE("CORS answers only configured origins; every answer carries the security headers", "[e2e][cors]") {
  stack s("e2e-cors", cors_settings());
  const auto poll = start_with_poll(s, exact_lunch_poll);
  const std::string votes = poll.votes_path();

  {
    http_client c(s.port());
    const std::map<std::string, std::string> preflight{{"Origin", "https://app.example"},
                                                       {"Access-Control-Request-Method", "POST"},
                                                       {"Access-Control-Request-Headers", "content-type"}};
    const auto ok = c.request("OPTIONS", votes, {}, preflight);
    CHECK(ok.status == 204);
    CHECK(ok.header("access-control-allow-origin") == "https://app.example");
    CHECK(ok.header("access-control-allow-methods") == "POST");
    CHECK(ok.header("access-control-allow-headers").find("Content-Type") != std::string::npos);
    CHECK(ok.header("access-control-max-age") == "300");
    CHECK(ok.header("vary") == "Origin");
    CHECK(ok.body.empty());
    check_security_headers(ok.headers);

    auto evil = preflight;
    evil["Origin"] = "https://evil.example";
    const auto refused = c.request("OPTIONS", votes, {}, evil);
    check_problem(refused, 403, "/problems/cors-refused");
    CHECK(refused.header("access-control-allow-origin").empty());
    CHECK(refused.header("vary") == "Origin");
    auto wrong_method = preflight;
    wrong_method["Access-Control-Request-Method"] = "DELETE";
    CHECK(c.request("OPTIONS", votes, {}, wrong_method).status == 403);
    CHECK(c.request("OPTIONS", "/v1/polls/" + poll.id, {},
                    {{"Origin", "http://localhost:5173"}, {"Access-Control-Request-Method", "GET"}})
              .header("access-control-allow-origin") == "http://localhost:5173");
    // Not a preflight: what the resource allows.
    const auto plain = c.request("OPTIONS", votes, {}, {});
    CHECK(plain.status == 204);
    CHECK(plain.header("allow") == "POST, OPTIONS");
    CHECK(plain.header("access-control-allow-origin").empty());
    CHECK(c.request("OPTIONS", "/v1/nothing", {}, preflight).status == 404);

    // Actual requests: the allowed origin is named, another is not (its page cannot read the answer).
    const auto mine = c.request("POST", votes, vote_body("c1"),
                                {{"Content-Type", "application/json"}, {"Origin", "https://app.example"}});
    CHECK(mine.status == 202);
    CHECK(mine.header("access-control-allow-origin") == "https://app.example");
    CHECK(mine.header("access-control-expose-headers").find("Retry-After") != std::string::npos);
    CHECK(mine.header("vary") == "Origin");
    const auto theirs = c.request("GET", "/v1/polls/" + poll.id, {}, {{"Origin", "https://evil.example"}});
    CHECK(theirs.status == 200);
    CHECK(theirs.header("access-control-allow-origin").empty());
    CHECK(c.get("/v1/polls/" + poll.id).header("access-control-allow-origin").empty());

    // Security headers on answers of every kind.
    for (const auto& r : {mine, theirs, c.post("/v1/polls", exact_lunch_poll), c.post(votes, "{"),
                          c.post(votes, vote_body("c1")), c.get("/v1/polls/00000000-0000-4000-8000-000000000000"),
                          c.request("DELETE", votes, {}, {}), c.get("/nowhere"), c.get("/livez"), c.get("/readyz"),
                          c.get("/metrics"), c.get("/v1/polls/" + poll.id + "/results")}) {
      INFO(r.status << " " << r.body.substr(0, 200));
      check_security_headers(r.headers);
    }
  }
  // ... and on what the server answers before any handler: malformed HTTP, headers too large.
  for (const std::string& bytes : {std::string("GARBAGE\r\n\r\n"),
                                   "GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n"}) {
    raw_connection raw(s.port());
    raw.send(bytes);
    REQUIRE(raw.read_until_closed(5s));
    INFO(raw.received().substr(0, 300));
    CHECK((raw.received().starts_with("HTTP/1.1 400") || raw.received().starts_with("HTTP/1.1 431")));
    check_security_headers(raw_headers(raw.received()));
  }

  {  // http.max_connections_per_address: a fifth connection from 127.0.0.1 gets 429 and is closed
    auto held = hold_connections(s.port(), 4, 10s);  // connections above may still be closing
    REQUIRE(held.size() == 4);
    check_connection_refused(s.port(), 429, "/problems/rate-limited");
    held.pop_back();
    CHECK(eventually([&] { return http_client(s.port()).get("/livez").status == 200; }, 10s));
  }
  CHECK(s.process(svc::ingest)->running());
}
