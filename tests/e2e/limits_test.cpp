// End to end: overload limits, timeouts, malformed HTTP and bad input against the real ingest.
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/raw_connection.hpp"
#include "splitvote/testing/stack.hpp"

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <future>
#include <iostream>
#include <thread>

using namespace splitvote::testing;
using namespace std::chrono_literals;
using svc = stack::service;

namespace {

const char* lunch = R"({"title":"Lunch","choices":["pizza","sushi","salad"],"privacy":{"decoys":{"distribution":"none"},"randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})";

bool settled(const boost::json::object& r, std::int64_t n) {
  const auto& part = r.at("participation").as_object();
  const auto& cons = r.at("consistency").as_object();
  return part.at("unique_actors").as_int64() == n && cons.at("ballotbox_envelopes").as_int64() == n &&
         cons.at("complete").as_bool();
}

/// Exact counts (no decoys, no randomized response, no noise) and nothing counted twice.
void check_counts(const boost::json::object& r, std::int64_t pizza, std::int64_t sushi, std::int64_t salad) {
  INFO(boost::json::serialize(r));
  const auto& part = r.at("participation").as_object();
  CHECK(part.at("unique_actors").as_int64() == pizza + sushi + salad);
  CHECK(part.at("submissions").as_int64() == pizza + sushi + salad);
  CHECK(part.at("duplicates").as_int64() == 0);
  CHECK(estimate_of(r, "pizza") == pizza);
  CHECK(estimate_of(r, "sushi") == sushi);
  CHECK(estimate_of(r, "salad") == salad);
}

void check_problem(const http_response& r, unsigned status, const std::string& type = {}) {
  INFO(r.body);
  CHECK(r.status == status);
  CHECK(r.header("content-type") == "application/problem+json");
  const auto body = r.json().as_object();
  CHECK(body.at("status").as_int64() == status);
  CHECK(!body.at("detail").as_string().empty());
  CHECK(body.at("type").as_string().starts_with("/problems/"));
  if (!type.empty()) CHECK(body.at("type").as_string() == type);
}

std::string vote_body(const std::string& actor, const std::string& choice) {
  return R"({"actor_id":")" + actor + R"(","choice":")" + choice + R"("})";
}

/// A raw POST of a vote with Content-Length; `extra` headers end with \r\n each.
std::string raw_vote(const std::string& poll_id, const std::string& body, const std::string& extra = {}) {
  return "POST /v1/polls/" + poll_id + "/votes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

/// The id with its first character percent-encoded ("%61bc..."): the same bytes to a
/// decoding router, another id to ours.
std::string percent_encode_first(const std::string& id) {
  char encoded[4];
  std::snprintf(encoded, sizeof encoded, "%%%02x", static_cast<unsigned char>(id[0]));
  return encoded + id.substr(1);
}

/// Every status line in a stream of responses, in order ("202", "400", ...).
std::vector<std::string> statuses(const std::string& stream) {
  std::vector<std::string> out;
  for (auto at = stream.find("HTTP/1.1 "); at != std::string::npos; at = stream.find("HTTP/1.1 ", at + 1))
    out.push_back(stream.substr(at + 9, 3));
  return out;
}

}  // namespace

TEST_CASE("requests over http.max_in_flight get 503 at once, probes still answer, nothing is lost", "[e2e][limits]") {
  // linger.ms holds each vote in the producer for 2 s: two votes stay in flight long enough
  // to see what a third one gets.
  stack s("e2e-in-flight", {{}, {{"SPLITVOTE_HTTP__MAX_IN_FLIGHT", "2"},
                                 {"SPLITVOTE_HTTP__MAX_CONNECTIONS", "8"},
                                 {"SPLITVOTE_KAFKA__RDKAFKA__LINGER__MS", "2000"}}});
  s.start_all();
  const auto poll = create_poll(s.port(), lunch);
  const std::string votes = "/v1/polls/" + poll.id + "/votes";

  {
    auto first = std::async(std::launch::async, [&] { return http_client(s.port()).post(votes, vote_body("a1", "pizza")); });
    auto second = std::async(std::launch::async, [&] { return http_client(s.port()).post(votes, vote_body("a2", "sushi")); });
    // Both admitted and waiting for Kafka in librdkafka's queue.
    REQUIRE(eventually([&] { return metric(s.port(), "splitvote_producer_queue_messages") == 2; }, 10s));

    http_client c(s.port());
    const auto third = c.post(votes, vote_body("a3", "salad"));
    check_problem(third, 503, "/problems/overloaded");
    CHECK(third.header("retry-after") == "1");
    CHECK(c.get("/livez").status == 200);   // probes are exempt
    CHECK(c.get("/readyz").status == 200);
    CHECK(c.get("/startupz").status == 200);

    CHECK(first.get().status == 202);
    CHECK(second.get().status == 202);
    // The refused actor was never reserved: the retry is accepted.
    CHECK(c.post(votes, vote_body("a3", "salad")).status == 202);
    // Only the scrape itself (a response can reach the client just before its request counts down).
    CHECK(eventually([&] { return metric(s.port(), "splitvote_http_in_flight_requests") == 1; }, 5s));
  }
  check_counts(await_results(s.port(), poll, [](const auto& r) { return settled(r, 3); }), 1, 1, 1);

  {  // http.max_connections: a ninth connection is answered 503 and closed
    std::vector<std::unique_ptr<raw_connection>> held;
    // Connections of the part above may still be closing: hold eight once the server has room.
    REQUIRE(eventually([&] {
      auto conn = std::make_unique<raw_connection>(s.port());
      conn->send("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
      if (!conn->read_until("\r\n\r\n", 5s) || !conn->received().starts_with("HTTP/1.1 200")) return false;
      held.push_back(std::move(conn));
      return held.size() == 8;
    }, 10s));
    raw_connection extra(s.port());
    extra.send("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(extra.read_until_closed(5s));
    INFO(extra.received());
    CHECK(extra.received().starts_with("HTTP/1.1 503"));
    CHECK(extra.received().find("/problems/overloaded") != std::string::npos);
    CHECK(extra.received().find("Retry-After: 1") != std::string::npos);
    // The held ones still work; one closed makes room again.
    held[0]->send("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(held[0]->read_until("HTTP/1.1 200", 5s));
    held.pop_back();
    CHECK(eventually([&] { return http_client(s.port()).get("/livez").status == 200; }, 10s));
  }
  CHECK(s.process(svc::ingest)->running());
}

TEST_CASE("a connection stops counting when it closes: a client that opens one per vote is never refused",
          "[e2e][connections]") {
  // Three times the client's threads as the cap: a closed connection that still counted (the vote's
  // deadline timer kept its session for kafka.delivery_timeout_ms, 5 s) filled it within a
  // second at this rate, and the rest got 503 "connections".
  stack s("e2e-fresh-connections", {{}, {{"SPLITVOTE_HTTP__MAX_CONNECTIONS", "12"}}});
  s.start_all();
  const auto poll = create_poll(s.port(), lunch);
  constexpr int threads = 4, per_thread = 150;
  std::vector<vote> ballots;
  for (int i = 0; i < threads * per_thread; ++i) ballots.push_back({"fresh-" + std::to_string(i), "pizza"});
  const auto cast = cast_votes_fresh(s.port(), poll.id, ballots, threads);
  const auto last_answer = std::chrono::steady_clock::now();
  INFO("answers other than 202: " << cast.others());
  CHECK(cast.accepted() == threads * per_thread);
  // Back to idle at once: only the scrape's own connection counts.
  const bool idle = eventually([&] { return metric(s.port(), "splitvote_http_open_connections") == 1; }, 1s);
  INFO("open connections now: " << metric(s.port(), "splitvote_http_open_connections") << ", "
       << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - last_answer).count()
       << " ms after the last answer");
  CHECK(idle);
  check_counts(await_results(s.port(), poll, [&](const auto& r) { return settled(r, threads * per_thread); }),
               threads * per_thread, 0, 0);
}

TEST_CASE("a full producer queue answers 503 with Retry-After, counts nothing and frees the actor", "[e2e][limits]") {
  stack s("e2e-queue-full", {{}, {{"SPLITVOTE_KAFKA__QUEUE_MAX_MESSAGES", "1"},
                                  {"SPLITVOTE_KAFKA__RDKAFKA__LINGER__MS", "2000"}}});
  s.start_all();
  const auto poll = create_poll(s.port(), lunch);
  const std::string votes = "/v1/polls/" + poll.id + "/votes";

  auto first = std::async(std::launch::async, [&] { return http_client(s.port()).post(votes, vote_body("q1", "pizza")); });
  // The first vote is in librdkafka's queue (not merely being checked) before the second comes.
  REQUIRE(eventually([&] { return metric(s.port(), "splitvote_producer_queue_messages") == 1; }, 10s));
  http_client c(s.port());
  const auto refused = c.post(votes, vote_body("q2", "sushi"));
  check_problem(refused, 503, "/problems/unavailable");
  CHECK(refused.header("retry-after") == "1");
  const std::string detail(refused.json().as_object().at("detail").as_string());
  CHECK(detail.find("queue is full") != std::string::npos);
  // The operator's hint (which settings to raise) is in the log, not in the client's answer.
  CHECK(detail.find("kafka.") == std::string::npos);
  CHECK(s.wait_for_log(svc::ingest, 0, "kafka.queue_max_messages", 1, 5s));
  CHECK(first.get().status == 202);
  // The refusal released the actor's reservation: the retry is accepted and counted once.
  CHECK(c.post(votes, vote_body("q2", "sushi")).status == 202);
  check_counts(await_results(s.port(), poll, [](const auto& r) { return settled(r, 2); }), 1, 1, 0);
  CHECK(s.process(svc::ingest)->running());
}

TEST_CASE("slow clients are cut off at the read timeout and cannot hold the only worker", "[e2e][timeouts]") {
  stack s("e2e-slow-loris", {{}, {{"SPLITVOTE_HTTP__THREADS", "1"},
                                  {"SPLITVOTE_HTTP__READ_TIMEOUT_MS", "1000"},
                                  {"SPLITVOTE_HTTP__IDLE_TIMEOUT_MS", "1000"}}});
  s.start_all();

  // Eight connections, each sending one byte of a never-ending header every 100 ms for up to
  // 20 s: far longer than the read timeout allows for a whole request.
  struct outcome {
    bool closed_by_server = false;
    std::string received;
  };
  constexpr int slow_clients = 8;
  std::vector<std::future<outcome>> slow;
  for (int i = 0; i < slow_clients; ++i)
    slow.push_back(std::async(std::launch::async, [port = s.port()] {
      raw_connection conn(port);
      const std::string head = "GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ";
      for (int sent = 0; sent < 200 && !conn.closed(); ++sent) {
        if (!conn.send(std::string(1, sent < static_cast<int>(head.size()) ? head[sent] : 'a'))) break;
        conn.read_for(100ms);  // returns early when the server closes
      }
      return outcome{conn.closed(), conn.received()};
    }));

  // Meanwhile a normal client is served: probes, a poll, a vote, its results.
  http_client c(s.port());
  CHECK(c.get("/livez").status == 200);
  const auto poll = create_poll(s.port(), lunch);
  CHECK(c.post("/v1/polls/" + poll.id + "/votes", vote_body("n1", "salad")).status == 202);
  check_counts(await_results(s.port(), poll, [](const auto& r) { return settled(r, 1); }), 0, 0, 1);

  for (auto& f : slow) {
    const auto o = f.get();
    CHECK(o.closed_by_server);   // cut off, not left to dribble for 20 s
    CHECK(o.received.empty());   // and never answered: its request never completed
  }

  {  // an idle keep-alive connection is closed after the idle timeout
    raw_connection idle(s.port());
    idle.send("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(idle.read_until("\r\n\r\n", 5s));
    CHECK(idle.read_until_closed(10s));
    CHECK(idle.received().starts_with("HTTP/1.1 200"));
  }
  {  // a keep-alive connection's second request dribbled after the first is cut off too
    raw_connection conn(s.port());
    conn.send("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(conn.read_until("\r\n\r\n", 5s));
    const std::string next = "GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for (std::size_t i = 0; i < next.size() && !conn.closed(); ++i) {
      conn.send(next.substr(i, 1));
      conn.read_for(100ms);
    }
    CHECK(conn.closed());
    CHECK(statuses(conn.received()) == std::vector<std::string>{"200"});
  }
  CHECK(c.get("/livez").status == 200);
  CHECK(s.process(svc::ingest)->running());
}

TEST_CASE("malformed HTTP is answered 400 or closed, and the server serves on", "[e2e][malformed]") {
  stack s("e2e-malformed", {{}, {{"SPLITVOTE_HTTP__READ_TIMEOUT_MS", "2000"}}});
  s.start_all();
  const auto poll = create_poll(s.port(), lunch);
  const std::string votes = "/v1/polls/" + poll.id + "/votes";

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
      {"TLS client hello", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(64, 'x'), {"400"}},
      {"header without colon", "GET /livez HTTP/1.1\r\nHost x\r\n\r\n", {"400"}},
      {"space in header name", "GET /livez HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", {"400"}},
      {"bare LF line ends", "GET /livez HTTP/1.1\nHost: x\n\n", {"400"}},
      {"NUL in target", std::string("GET /li\0vez HTTP/1.1\r\nHost: x\r\n\r\n", 33), {"400"}},
      {"NUL in header value", std::string("GET /livez HTTP/1.1\r\nHost: x\0y\r\n\r\n", 34), {"400"}},
      {"Content-Length not a number", "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n" + vote, {"400"}},
      {"negative Content-Length", "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n" + vote, {"400"}},
      {"Content-Length overflow", "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", {"400"}},
      {"two Content-Lengths", "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n" + vote, {"400"}},
      {"Content-Length and Transfer-Encoding",
       "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(vote.size()) + "\r\nTransfer-Encoding: chunked\r\n\r\n" + vote, {"400"}},
      {"unknown Transfer-Encoding", "POST " + votes + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: rot13\r\n\r\n" + vote, {"400"}},
      {"bad chunk size", "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + vote + "\r\n0\r\n\r\n", {"400"}},
      {"chunk size overflow", "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabc\r\n", {"400"}},
      {"chunk without CRLF", "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef0\r\n\r\n", {"400"}},
      {"HTTP/0.9 request", "GET /livez\r\n\r\n", {"400"}},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {"400"}},
      {"HTTP/3.0", "GET /livez HTTP/3.0\r\nHost: x\r\n\r\n", {"400"}},
      {"absolute-form target", "GET http://evil.example/livez HTTP/1.1\r\nHost: x\r\n\r\n", {"400"}},
      {"absurdly long method", std::string(20000, 'G') + " /livez HTTP/1.1\r\nHost: x\r\n\r\n", {"431"}},
      {"absurdly long target", "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", {"431"}},
      {"absurdly many headers", "GET /livez HTTP/1.1\r\nHost: x\r\n" + [] {
         std::string h;
         for (int i = 0; i < 2000; ++i) h += "X-H" + std::to_string(i) + ": v\r\n";
         return h;
       }() + "\r\n", {"431"}},
      {"truncated headers, then end of stream", "GET /livez HTTP/1.1\r\nHo", {"close"}, true},
      {"truncated body, then end of stream", "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"actor_id\"", {"close"}, true},
      {"truncated body, then silence", "POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"actor_id\"", {"close"}},
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

TEST_CASE("bad input gets its documented status and a problem body, and leaves the counts unchanged", "[e2e][bad-input]") {
  stack s("e2e-bad-input");
  s.start_all();
  const auto poll = create_poll(s.port(), lunch);
  const auto other = create_poll(s.port(), lunch);  // for the inputs that must be accepted
  std::vector<vote> seed;
  for (int i = 0; i < 6; ++i) seed.push_back({"seed-" + std::to_string(i), i < 3 ? "pizza" : i < 5 ? "sushi" : "salad"});
  REQUIRE(cast_votes(s.port(), poll.id, seed).accepted() == 6);
  check_counts(await_results(s.port(), poll, [](const auto& r) { return settled(r, 6); }), 3, 2, 1);

  const std::string votes = "/v1/polls/" + poll.id + "/votes";
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
      {"two documents", "POST", votes, R"({"actor_id":"b4","choice":"pizza"}{"actor_id":"b5","choice":"pizza"})", 400, "/problems/invalid-request"},
      {"choice a number", "POST", votes, R"({"actor_id":"b6","choice":1})", 400, "/problems/invalid-request"},
      {"actor_id null", "POST", votes, R"({"actor_id":null,"choice":"pizza"})", 400, "/problems/invalid-request"},
      {"actor_id an array", "POST", votes, R"({"actor_id":["b7"],"choice":"pizza"})", 400, "/problems/invalid-request"},
      {"actor_id an object", "POST", votes, R"({"actor_id":{"id":"b8"},"choice":"pizza"})", 400, "/problems/invalid-request"},
      {"empty actor_id", "POST", votes, R"({"actor_id":"","choice":"pizza"})", 400, "/problems/invalid-request"},
      {"huge actor_id", "POST", votes, vote_body(long_id, "pizza"), 400, "/problems/invalid-request"},
      {"huge choice", "POST", votes, vote_body("b9", std::string(3000, 'p')), 400, "/problems/invalid-request"},
      {"actor_id above the body limit", "POST", votes, vote_body(std::string(5000, 'x'), "pizza"), 413, "/problems/body-too-large"},
      {"unknown field", "POST", votes, R"({"actor_id":"b10","choice":"pizza","weight":1000})", 400, "/problems/invalid-request"},
      {"unknown nested field", "POST", votes, R"({"actor_id":"b11","choice":"pizza","meta":{"x":1}})", 400, "/problems/invalid-request"},
      {"invalid UTF-8 in actor_id", "POST", votes, "{\"actor_id\":\"b12\xff\",\"choice\":\"pizza\"}", 400, "/problems/invalid-request"},
      {"overlong UTF-8 in actor_id", "POST", votes, "{\"actor_id\":\"\xc0\xaf\",\"choice\":\"pizza\"}", 400, "/problems/invalid-request"},
      {"UTF-16 surrogate in actor_id", "POST", votes, "{\"actor_id\":\"\xed\xa0\x80\",\"choice\":\"pizza\"}", 400, "/problems/invalid-request"},
      {"cut multi-byte character in actor_id", "POST", votes, "{\"actor_id\":\"b13\xe2\x82\",\"choice\":\"pizza\"}", 400, "/problems/invalid-request"},
      {"invalid UTF-8 in choice", "POST", votes, "{\"actor_id\":\"b14\",\"choice\":\"pizz\xe0\"}", 400, "/problems/invalid-request"},
      {"lone surrogate escape", "POST", votes, R"({"actor_id":"\ud800","choice":"pizza"})", 400, "/problems/invalid-request"},
      {"duplicate actor_id", "POST", votes, R"({"actor_id":"b15","actor_id":"b16","choice":"pizza"})", 400, "/problems/invalid-request"},
      {"duplicate choice", "POST", votes, R"({"actor_id":"b17","choice":"pizza","choice":"salad"})", 400, "/problems/invalid-request"},
      {"duplicate key, escaped", "POST", votes, R"({"actor_id":"b18","choice":"pizza","\u0063hoice":"salad"})", 400, "/problems/invalid-request"},
      {"unknown choice", "POST", votes, vote_body("b19", "tacos"), 422, "/problems/unknown-choice"},
      {"choice differs in case", "POST", votes, vote_body("b20", "Pizza"), 422, "/problems/unknown-choice"},
      {"already voted", "POST", votes, vote_body("seed-0", "salad"), 409, "/problems/already-voted"},
      {"PUT on votes", "PUT", votes, vote_body("b21", "pizza"), 405, "/problems/method-not-allowed"},
      {"GET on votes", "GET", votes, "", 405, "/problems/method-not-allowed"},
      {"PATCH on polls", "PATCH", "/v1/polls", lunch, 405, "/problems/method-not-allowed"},
      {"DELETE on a poll", "DELETE", "/v1/polls/" + poll.id, "", 405, "/problems/method-not-allowed"},
      {"POST on a probe", "POST", "/livez", "", 405, "/problems/method-not-allowed"},
      {"dot-dot segment as the id", "POST", "/v1/polls/../votes", vote_body("b22", "pizza"), 404, "/problems/poll-not-found"},
      {"dot-dot to another collection", "GET", "/v1/polls/../polls", "", 404, "/problems/not-found"},
      {"dot-dot to another poll", "GET", "/v1/polls/" + poll.id + "/../" + other.id, "", 404, "/problems/not-found"},
      {"dot-dot out of results", "GET", "/v1/polls/" + poll.id + "/results/../close", "", 404, "/problems/not-found"},
      {"encoded dot-dot id", "POST", "/v1/polls/%2e%2e/votes", vote_body("b23", "pizza"), 404, "/problems/poll-not-found"},
      {"encoded dot-dot id, upper case", "GET", "/v1/polls/%2E%2E", "", 404, "/problems/poll-not-found"},
      {"encoded slash in the id", "GET", "/v1/polls/" + poll.id + "%2Fresults", "", 404, "/problems/poll-not-found"},
      {"encoded traversal to /etc", "POST", "/v1/polls/..%2F..%2F..%2Fetc%2Fpasswd/votes", vote_body("b24", "pizza"), 404, "/problems/poll-not-found"},
      {"percent-encoded poll id", "POST", "/v1/polls/" + percent_encode_first(poll.id) + "/votes", vote_body("b25", "pizza"), 404, "/problems/poll-not-found"},
      {"backslash traversal", "GET", "/v1/polls/..\\..\\etc", "", 404, "/problems/poll-not-found"},
      {"upper-case poll id", "POST", "/v1/polls/" + [&] {
         std::string up = poll.id;
         for (auto& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
         return up;
       }() + "/votes", vote_body("b26", "pizza"), 404, "/problems/poll-not-found"},
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
    ok.send("POST /v1/polls/" + other.id + "/votes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
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
    big.send("POST " + votes + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
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

namespace {

/// A line of /proc/PID/status in KiB ("VmRSS", "VmHWM").
long status_kib(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(field + ":")) return std::stol(line.substr(field.size() + 1));
  return -1;
}

}  // namespace

// A measurement, not a test (hidden; run by hand: splitvote-e2e-tests "[flood]"): ingest's
// memory while Kafka is stalled and 3,000 clients each send one vote at once, with and
// without the limits (SPLITVOTE_FLOOD_CLIENTS changes the 3,000). Its figures are in docs/operations.md ("Limits and overload").
TEST_CASE("memory of ingest under a flood with a stalled Kafka", "[.][flood]") {
  struct flood_limit {
    const char* name;
    std::map<std::string, std::string> env;
  };
  const std::vector<flood_limit> limits = {
      {"no limits (librdkafka's own queue bounds)",
       {{"SPLITVOTE_HTTP__MAX_IN_FLIGHT", "0"}, {"SPLITVOTE_HTTP__MAX_CONNECTIONS", "0"},
        {"SPLITVOTE_KAFKA__QUEUE_MAX_MESSAGES", "100000"}, {"SPLITVOTE_KAFKA__QUEUE_MAX_KBYTES", "1048576"}}},
      {"http.max_in_flight=200",
       {{"SPLITVOTE_HTTP__MAX_IN_FLIGHT", "200"}, {"SPLITVOTE_HTTP__MAX_CONNECTIONS", "0"}}},
      {"kafka.queue_max_messages=200",
       {{"SPLITVOTE_HTTP__MAX_IN_FLIGHT", "0"}, {"SPLITVOTE_HTTP__MAX_CONNECTIONS", "0"},
        {"SPLITVOTE_KAFKA__QUEUE_MAX_MESSAGES", "200"}}},
  };
  const int clients = std::stoi(setting("SPLITVOTE_FLOOD_CLIENTS", "3000"));
  for (const auto& limit : limits) {
    auto env = limit.env;
    env["SPLITVOTE_KAFKA__DELIVERY_TIMEOUT_MS"] = "60000";
    env["SPLITVOTE_LOG__LEVEL"] = "warn";
    stack s("e2e-flood", {{}, env});
    s.start_all();
    const auto poll = create_poll(s.port(), R"({"title":"Flood","choices":["a","b","c"]})");  // default privacy
    const int pid = s.process(svc::ingest)->pid();
    const long before = status_kib(pid, "VmRSS");
    s.stop_broker();
    std::vector<std::unique_ptr<raw_connection>> conns;
    for (int i = 0; i < clients; ++i) {
      conns.push_back(std::make_unique<raw_connection>(s.port()));
      conns.back()->send(raw_vote(poll.id, vote_body("flood-" + std::to_string(i), "a"), "Connection: close\r\n"));
    }
    // Settled: the number waiting stays the same for a second.
    for (double last = -1, now = 0; now != last;) {
      last = now;
      std::this_thread::sleep_for(1s);
      now = metric(s.port(), "splitvote_http_in_flight_requests");
    }
    int answered = 0;
    for (auto& c : conns) {
      c->read_for(1ms);
      if (!c->received().empty()) ++answered;
    }
    const double waiting = metric(s.port(), "splitvote_http_in_flight_requests") - 1;
    std::cout << "flood, " << limit.name << ": " << clients << " votes, " << answered << " answered 503 at once, "
              << waiting << " waiting for Kafka; ingest RSS " << before / 1024 << " MiB before, "
              << status_kib(pid, "VmRSS") / 1024 << " MiB after (peak " << status_kib(pid, "VmHWM") / 1024 << " MiB)\n";
    conns.clear();
    s.stop(svc::ingest, 0, 9);
  }
}
