// End to end: the in-flight, connection and producer-queue limits (503 at once, nothing lost), and ingest's memory
// under a flood.
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

/// A vote cast on a connection of its own, answered once Kafka has acknowledged it.
std::future<http_response> vote_aside(unsigned short port, const std::string& votes, const std::string& actor,
                                      const std::string& choice) {
  return std::async(std::launch::async, [=] { return http_client(port).post(votes, vote_body(actor, choice)); });
}

/// Waits until librdkafka's queue holds `n` votes (admitted, not merely being checked).
bool queued(unsigned short port, int n) {
  return eventually([&] { return metric(port, "splitvote_producer_queue_messages") == n; }, 10s);
}

}  // namespace

TEST_CASE("requests over http.max_in_flight get 503 at once, probes still answer, nothing is lost", "[e2e][limits]") {
  // linger.ms holds each vote in the producer for 2 s: two votes stay in flight long enough
  // to see what a third one gets.
  stack s("e2e-in-flight", {{},
                            {{"SPLITVOTE_HTTP__MAX_IN_FLIGHT", "2"},
                             {"SPLITVOTE_HTTP__MAX_CONNECTIONS", "8"},
                             {"SPLITVOTE_KAFKA__RDKAFKA__LINGER__MS", "2000"}}});
  const auto poll = start_with_poll(s, exact_lunch_poll);
  const std::string votes = poll.votes_path();

  {
    auto first = vote_aside(s.port(), votes, "a1", "pizza");
    auto second = vote_aside(s.port(), votes, "a2", "sushi");
    REQUIRE(queued(s.port(), 2));  // both admitted and waiting for Kafka

    http_client c(s.port());
    const auto third = c.post(votes, vote_body("a3", "salad"));
    check_problem(third, 503, "/problems/overloaded");
    CHECK(third.header("retry-after") == "1");
    CHECK(c.get("/livez").status == 200);  // probes are exempt
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
    // Connections of the part above may still be closing: hold eight once the server has room.
    auto held = hold_connections(s.port(), 8, 10s);
    REQUIRE(held.size() == 8);
    check_connection_refused(s.port(), 503, "/problems/overloaded");
    // The held ones still work; one closed makes room again.
    held[0]->send(livez_request);
    CHECK(held[0]->read_until("HTTP/1.1 200", 5s));
    held.pop_back();
    CHECK(eventually([&] { return http_client(s.port()).get("/livez").status == 200; }, 10s));
  }
  CHECK(s.process(svc::ingest)->running());
}

TEST_CASE("a full producer queue answers 503 with Retry-After, counts nothing and frees the actor", "[e2e][limits]") {
  stack s("e2e-queue-full",
          {{}, {{"SPLITVOTE_KAFKA__QUEUE_MAX_MESSAGES", "1"}, {"SPLITVOTE_KAFKA__RDKAFKA__LINGER__MS", "2000"}}});
  const auto poll = start_with_poll(s, exact_lunch_poll);
  const std::string votes = poll.votes_path();

  auto first = vote_aside(s.port(), votes, "q1", "pizza");
  REQUIRE(queued(s.port(), 1));  // the first vote is in the queue before the second comes
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
// without the limits (SPLITVOTE_FLOOD_CLIENTS changes the 3,000). Its figures are in docs/operations.md ("Limits and
// overload").
TEST_CASE("memory of ingest under a flood with a stalled Kafka", "[.][flood]") {
  struct flood_limit {
    const char* name;
    std::map<std::string, std::string> env;
  };
  const std::vector<flood_limit> limits = {
      {"no limits (librdkafka's own queue bounds)",
       {{"SPLITVOTE_HTTP__MAX_IN_FLIGHT", "0"},
        {"SPLITVOTE_HTTP__MAX_CONNECTIONS", "0"},
        {"SPLITVOTE_KAFKA__QUEUE_MAX_MESSAGES", "100000"},
        {"SPLITVOTE_KAFKA__QUEUE_MAX_KBYTES", "1048576"}}},
      {"http.max_in_flight=200", {{"SPLITVOTE_HTTP__MAX_IN_FLIGHT", "200"}, {"SPLITVOTE_HTTP__MAX_CONNECTIONS", "0"}}},
      {"kafka.queue_max_messages=200",
       {{"SPLITVOTE_HTTP__MAX_IN_FLIGHT", "0"},
        {"SPLITVOTE_HTTP__MAX_CONNECTIONS", "0"},
        {"SPLITVOTE_KAFKA__QUEUE_MAX_MESSAGES", "200"}}},
  };
  const int clients = std::stoi(setting("SPLITVOTE_FLOOD_CLIENTS", "3000"));
  for (const auto& limit : limits) {
    auto env = limit.env;
    env["SPLITVOTE_KAFKA__DELIVERY_TIMEOUT_MS"] = "60000";
    env["SPLITVOTE_LOG__LEVEL"] = "warn";
    stack s("e2e-flood", {{}, env});
    const auto poll = start_with_poll(s, R"({"title":"Flood","choices":["a","b","c"]})");  // default privacy
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
