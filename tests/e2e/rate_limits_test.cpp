// End to end: rate limits (429 + Retry-After) per client, per poll and on creation, and X-Forwarded-For.
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

TEST_CASE("rate limits per client address, per poll and on poll creation answer 429 with Retry-After",
          "[e2e][rate-limits]") {
  stack s("e2e-rate-limits", {{},
                              {{"SPLITVOTE_HTTP__RATE_LIMIT__CLIENT_PER_SECOND", "1"},
                               {"SPLITVOTE_HTTP__RATE_LIMIT__CLIENT_BURST", "40"},
                               {"SPLITVOTE_HTTP__RATE_LIMIT__POLL_VOTES_PER_SECOND", "1"},
                               {"SPLITVOTE_HTTP__RATE_LIMIT__POLL_VOTES_BURST", "3"},
                               {"SPLITVOTE_HTTP__RATE_LIMIT__CREATIONS_PER_MINUTE", "1"},
                               {"SPLITVOTE_HTTP__RATE_LIMIT__CREATIONS_BURST", "2"},
                               {"SPLITVOTE_HTTP__TRUSTED_PROXIES", "127.0.0.1, ::1"}}});
  s.start_all();
  http_client c(s.port());

  // Creation: two at once from this address, the third must wait a minute.
  const auto a = create_poll(s.port(), exact_lunch_poll);
  const auto b = create_poll(s.port(), exact_lunch_poll);
  const auto third = c.post("/v1/polls", exact_lunch_poll);
  check_problem(third, 429, "/problems/rate-limited");
  CHECK(std::stoi(third.header("retry-after")) >= 55);
  CHECK(std::stoi(third.header("retry-after")) <= 60);

  // Votes: three at once into poll a, the fourth is refused before it is looked at; poll b has
  // its own bucket; the refused actor was never reserved, so the retry counts.
  const std::string votes_a = a.votes_path();
  for (int i = 0; i < 3; ++i) CHECK(c.post(votes_a, vote_body("v" + std::to_string(i))).status == 202);
  const auto refused = c.post(votes_a, vote_body("v3"));
  check_problem(refused, 429, "/problems/rate-limited");
  CHECK(refused.header("retry-after") == "1");
  CHECK(c.post("/v1/polls/" + b.id + "/votes", vote_body("v3")).status == 202);
  std::this_thread::sleep_for(1100ms);
  CHECK(c.post(votes_a, vote_body("v3")).status == 202);

  // Per client: a client behind the trusted proxy (127.0.0.1) is known by X-Forwarded-For.
  const std::map<std::string, std::string> from_x{{"X-Forwarded-For", "198.51.100.7"}};
  http_response last;
  int allowed = 0;
  for (int i = 0; i < 200; ++i) {
    last = c.get("/v1/polls/" + a.id, from_x);
    if (last.status != 200) break;
    ++allowed;
  }
  check_problem(last, 429, "/problems/rate-limited");
  CHECK(allowed >= 40);
  CHECK(allowed <= 45);  // the burst, plus what a second of the test refilled
  CHECK(last.header("retry-after") == "1");
  // Probes and metrics are never limited; another forwarded client and the proxy itself have
  // their own buckets; "client, proxy" chains name the client left of the trusted hops.
  CHECK(c.get("/livez", from_x).status == 200);
  CHECK(c.get("/readyz", from_x).status == 200);
  CHECK(c.get("/v1/polls/" + a.id, {{"X-Forwarded-For", "198.51.100.8"}}).status == 200);
  CHECK(c.get("/v1/polls/" + a.id).status == 200);
  CHECK(c.get("/v1/polls/" + a.id, {{"X-Forwarded-For", "198.51.100.7, 127.0.0.1"}}).status == 429);

  CHECK(metric(s.port(), R"(splitvote_http_rate_limited_total{scope="poll_creations"})") == 1);
  CHECK(metric(s.port(), R"(splitvote_http_rate_limited_total{scope="poll_votes"})") == 1);
  CHECK(metric(s.port(), R"(splitvote_http_rate_limited_total{scope="client"})") == 2);
  CHECK(metric(s.port(), R"(splitvote_http_requests_total{method="GET",route="/v1/polls/{id}",status="429"})") == 2);
  CHECK(s.process(svc::ingest)->running());
}

TEST_CASE("without trusted proxies X-Forwarded-For is ignored: a client cannot pose as many", "[e2e][rate-limits]") {
  stack s("e2e-rate-limits-spoof", {{},
                                    {{"SPLITVOTE_HTTP__RATE_LIMIT__CLIENT_PER_SECOND", "1"},
                                     {"SPLITVOTE_HTTP__RATE_LIMIT__CLIENT_BURST", "10"}}});
  s.start_all();
  http_client c(s.port());
  int allowed = 0;
  http_response last;
  for (int i = 0; i < 100; ++i) {
    last = c.get("/v1/polls/00000000-0000-4000-8000-000000000000",
                 {{"X-Forwarded-For", "203.0.113." + std::to_string(i)}});
    if (last.status == 429) break;
    ++allowed;
  }
  check_problem(last, 429, "/problems/rate-limited");
  CHECK(allowed >= 10);
  CHECK(allowed <= 13);
  CHECK(c.get("/metrics").status == 200);  // exempt
}
