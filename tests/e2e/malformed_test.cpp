// End to end: malformed HTTP is answered 400 or closed, and the server serves on.
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

TEST_CASE("malformed HTTP is answered 400 or closed, and the server serves on", "[e2e][malformed]") {
  stack s("e2e-malformed", {{}, {{"SPLITVOTE_HTTP__READ_TIMEOUT_MS", "2000"}}});
  const auto poll = start_with_poll(s, exact_lunch_poll);
  const std::string votes = poll.votes_path();

  struct bad_http {
    const char* what;
    std::string bytes;
    std::vector<std::string> allowed;  // status codes, or "close" for closed without an answer
    bool half_close = false;           // the client stops sending after the bytes
  };
  const std::string vote = vote_body("m1", "pizza");
  const std::vector<bad_http> cases = {
      {"garbage request line", "HELLO THERE\r\n\r\n", {"400"}},
      {"request line without target", "GET\r\n\r\n", {"400"}},
      {"binary garbage", std::string("\xff\xfe\x01\x02\x80\x81 \r\n\r\n", 12), {"400"}},
      {"TLS client hello",
       std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(64, 'x'),
       {"400"}},
      {"header without colon", "GET /livez HTTP/1.1\r\nHost x\r\n\r\n", {"400"}},
      {"space in header name", "GET /livez HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", {"400"}},
      {"bare LF line ends", "GET /livez HTTP/1.1\nHost: x\n\n", {"400"}},
      {"NUL in target", std::string("GET /li\0vez HTTP/1.1\r\nHost: x\r\n\r\n", 33), {"400"}},
      {"NUL in header value", std::string("GET /livez HTTP/1.1\r\nHost: x\0y\r\n\r\n", 34), {"400"}},
      {"Content-Length not a number",
       "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n" + vote,
       {"400"}},
      {"negative Content-Length",
       "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n" + vote,
       {"400"}},
      {"Content-Length overflow",
       "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
       {"400"}},
      {"two Content-Lengths",
       "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n" + vote,
       {"400"}},
      {"Content-Length and Transfer-Encoding",
       "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(vote.size()) + "\r\nTransfer-Encoding: chunked\r\n\r\n" + vote,
       {"400"}},
      {"unknown Transfer-Encoding",
       "POST " + votes + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: rot13\r\n\r\n" + vote,
       {"400"}},
      {"bad chunk size",
       "POST " + votes +
           " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + vote +
           "\r\n0\r\n\r\n",
       {"400"}},
      {"chunk size overflow",
       "POST " + votes +
           " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: "
           "chunked\r\n\r\nffffffffffffffffffff\r\nabc\r\n",
       {"400"}},
      {"chunk without CRLF",
       "POST " + votes +
           " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: "
           "chunked\r\n\r\n3\r\nabcdef0\r\n\r\n",
       {"400"}},
      {"HTTP/0.9 request", "GET /livez\r\n\r\n", {"400"}},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {"400"}},
      {"HTTP/3.0", "GET /livez HTTP/3.0\r\nHost: x\r\n\r\n", {"400"}},
      {"absolute-form target", "GET http://evil.example/livez HTTP/1.1\r\nHost: x\r\n\r\n", {"400"}},
      {"absurdly long method", std::string(20000, 'G') + " /livez HTTP/1.1\r\nHost: x\r\n\r\n", {"431"}},
      {"absurdly long target", "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", {"431"}},
      {"absurdly many headers",
       "GET /livez HTTP/1.1\r\nHost: x\r\n" +
           [] {
             std::string h;
             for (int i = 0; i < 2000; ++i) h += "X-H" + std::to_string(i) + ": v\r\n";
             return h;
           }() +
           "\r\n",
       {"431"}},
      {"truncated headers, then end of stream", "GET /livez HTTP/1.1\r\nHo", {"close"}, true},
      {"truncated body, then end of stream",
       "POST " + votes +
           " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"actor_id\"",
       {"close"},
       true},
      {"truncated body, then silence",
       "POST " + votes +
           " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"actor_id\"",
       {"close"}},
      {"only blank lines", "\r\n\r\n\r\n", {"400"}},
  };
  for (const auto& bc : cases) {
    INFO(bc.what);
    raw_connection conn(s.port());
    conn.send(bc.bytes);
    if (bc.half_close) conn.shutdown_send();
    CHECK(conn.read_until_closed(15s));  // closed by the server: answered or timed out
    const auto got = statuses(conn.received());
    INFO(conn.received().substr(0, 400));
    const std::string outcome = got.empty() ? "close" : got.front();
    CHECK(std::find(bc.allowed.begin(), bc.allowed.end(), outcome) != bc.allowed.end());
    CHECK(got.size() <= 1);
    if (!got.empty()) CHECK(conn.received().find("Content-Type: application/problem+json") != std::string::npos);
  }
  // Still serving, nothing was counted, and the process never went down.
  http_client c(s.port());
  CHECK(c.get("/livez").status == 200);
  CHECK(c.post(votes, vote_body("m2", "sushi")).status == 202);
  check_counts(await_results(s.port(), poll, [](const auto& r) { return settled(r, 1); }), 0, 1, 0);
  CHECK(s.process(svc::ingest)->running());
}
