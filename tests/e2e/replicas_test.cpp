// End to end: two ingest instances on one topic and one pair of stores, directly and behind the shipped nginx.
#include "splitvote/testing/answers.hpp"
#include "splitvote/testing/http_client.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/proxy.hpp"
#include "splitvote/testing/stack.hpp"

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

using namespace splitvote::testing;
using namespace std::chrono_literals;
using svc = stack::service;

namespace {

/// Exact counts: no decoys, no randomized response, no release noise.
const char* quiet_poll =
    R"({"title":"Replicas","choices":["pizza","sushi"],"privacy":{"decoys":{"distribution":"none"},"randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})";

/// Both consumers, then ingest instances 0 and 1.
void start_two_ingests(stack& s) {
  s.start(svc::pollbook);
  s.start(svc::ballotbox);
  s.start(svc::ingest, 0);
  s.start(svc::ingest, 1);
}

/// Everything the topic holds is in both stores, and the pollbook has `submissions`.
bool stored(const boost::json::object& r, std::int64_t submissions) {
  const auto& part = r.at("participation").as_object();
  const auto& cons = r.at("consistency").as_object();
  return part.at("submissions").as_int64() == submissions && cons.at("ballotbox_envelopes").as_int64() == submissions &&
         cons.at("complete").as_bool();
}

}  // namespace

TEST_CASE("the same actor on two replicas at once: one 202 and one refusal, or two 202s counted as a duplicate",
          "[e2e][replicas-double-vote]") {
  stack s("e2e-replicas-double-vote");
  start_two_ingests(s);
  const auto poll = create_poll(s.port(0), quiet_poll);
  const std::string votes = poll.votes_path();
  constexpr int actors = 100;

  // Two threads, one keep-alive connection to each instance, meeting at a barrier before each
  // actor's vote: both instances get the actor's vote at the same moment.
  std::vector<std::pair<unsigned, unsigned>> answers(actors);
  std::vector<std::string> refusals;  // bodies of anything but 202 and 409, for the failure message
  std::mutex refusals_mutex;
  {
    std::barrier meet(2);
    auto voter = [&](int instance) {
      http_client c(s.port(instance));
      c.get("/livez");  // connected before the first round
      for (int i = 0; i < actors; ++i) {
        meet.arrive_and_wait();
        const auto r = c.post(votes, vote_body("twice-" + std::to_string(i), i % 2 ? "pizza" : "sushi"));
        (instance == 0 ? answers[i].first : answers[i].second) = r.status;
        if (r.status != 202 && r.status != 409) {
          std::lock_guard lock(refusals_mutex);
          refusals.push_back(std::to_string(r.status) + " " + r.header("retry-after") + " " + r.body);
        }
      }
    };
    std::jthread on_0(voter, 0), on_1(voter, 1);
  }
  for (const auto& r : refusals) UNSCOPED_INFO(r);
  int both_accepted = 0, one_refused = 0, accepted = 0;
  for (int i = 0; i < actors; ++i) {
    const auto [a, b] = answers[i];
    INFO("actor twice-" << i << ": instance 0 answered " << a << ", instance 1 answered " << b);
    const auto low = std::min(a, b), high = std::max(a, b);
    CHECK(low == 202);
    CHECK((high == 202 || high == 409));
    both_accepted += low == 202 && high == 202;
    one_refused += low == 202 && high == 409;
    accepted += (a == 202) + (b == 202);
  }
  std::cout << "replicas-double-vote: " << actors << " actors on both instances at once: " << both_accepted
            << " pairs 202+202, " << one_refused << " pairs 202+409\n";
  // The "detected" half must really happen: at once, neither instance can know of the other's vote.
  REQUIRE(both_accepted > 0);

  const auto r = await_results(s.port(0), poll, [&](const auto& res) { return stored(res, accepted); });
  INFO(boost::json::serialize(r));
  const auto& part = r.at("participation").as_object();
  CHECK(part.at("submissions").as_int64() == accepted);
  CHECK(r.at("consistency").as_object().at("ballotbox_envelopes").as_int64() == accepted);
  CHECK(r.at("consistency").as_object().at("complete").as_bool());
  CHECK(part.at("unique_actors").as_int64() == actors);
  CHECK(part.at("duplicates").as_int64() == both_accepted);
  CHECK(part.at("duplicates").as_int64() == part.at("submissions").as_int64() - part.at("unique_actors").as_int64());

  // Once the pollbook holds an actor, every replica refuses it.
  for (int instance : {0, 1}) {
    http_client c(s.port(instance));
    for (int i = 0; i < actors; i += 10) {
      INFO("instance " << instance << ", actor twice-" << i);
      CHECK(c.post(votes, vote_body("twice-" + std::to_string(i), "pizza")).status == 409);
    }
  }
  CHECK(s.process(svc::ingest, 0)->running());
  CHECK(s.process(svc::ingest, 1)->running());
}

TEST_CASE("a poll closed through one replica is refused by the other within the poll cache's 1 s",
          "[e2e][replicas-close]") {
  stack s("e2e-replicas-close");
  start_two_ingests(s);
  // The bound that follows from services/ingest/src/api.cpp: instance 1 may use a poll it read
  // just before the close for api_options::poll_cache_ttl (1 s); then it reads the catalog
  // again. The margin covers that read and one vote's round trip on a loaded machine.
  constexpr auto bound = 1000ms + 500ms;
  int actor = 0;
  for (int round = 0; round < 3; ++round) {
    const auto poll = create_poll(s.port(0), quiet_poll);
    const std::string votes = poll.votes_path();
    http_client on_1(s.port(1)), on_0(s.port(0));
    // Instance 1 has the poll cached, from a recent read.
    for (int i = 0; i < 5; ++i)
      REQUIRE(on_1.post(votes, vote_body("close-" + std::to_string(actor++), "pizza")).status == 202);
    REQUIRE(
        on_0.request("POST", "/v1/polls/" + poll.id + "/close", "", {{"Authorization", "Bearer " + poll.admin_token}})
            .status == 200);
    const auto closed = std::chrono::steady_clock::now();
    int accepted_after_close = 0;
    std::optional<std::chrono::milliseconds> refused_after;
    while (!refused_after && std::chrono::steady_clock::now() - closed < 5s) {
      const auto status = on_1.post(votes, vote_body("close-" + std::to_string(actor++), "sushi")).status;
      INFO("a vote on instance 1 after the close answered " << status);
      REQUIRE((status == 202 || status == 410));
      if (status == 202) ++accepted_after_close;
      if (status == 410)
        refused_after =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - closed);
    }
    REQUIRE(refused_after);
    std::cout << "replicas-close, round " << round << ": instance 1 refused the first vote " << refused_after->count()
              << " ms after the close answered on instance 0 (" << accepted_after_close
              << " votes accepted in between)\n";
    CHECK(*refused_after <= bound);
    // And from then on, every vote there.
    for (int i = 0; i < 20; ++i) {
      INFO("vote " << i << " after the first 410");
      CHECK(on_1.post(votes, vote_body("close-" + std::to_string(actor++), "sushi")).status == 410);
    }
    CHECK(on_0.post(votes, vote_body("close-" + std::to_string(actor++), "sushi")).status == 410);
  }
}

TEST_CASE("the shipped nginx in front of two replicas reuses its upstream connections", "[e2e][replicas-keepalive]") {
  stack s("e2e-replicas-keepalive");
  start_two_ingests(s);
  const nginx_proxy proxy(s.dir(), {s.port(0), s.port(1)});
  const auto poll = create_poll(s.port(0), quiet_poll);
  const std::string accepted_total = "splitvote_http_connections_accepted_total";
  // Each reading counts its own scrape connection: the difference of two counts one scrape.
  const double before[2] = {metric(s.port(0), accepted_total), metric(s.port(1), accepted_total)};
  REQUIRE(before[0] >= 1);
  REQUIRE(before[1] >= 1);

  constexpr int threads = 4, per_thread = 75, total = threads * per_thread;
  std::vector<vote> ballots;
  for (int i = 0; i < total; ++i) ballots.push_back({"proxied-" + std::to_string(i), "pizza"});
  // A new connection to nginx per vote, closed by the client after the answer.
  const auto cast = cast_votes_fresh(proxy.port(), poll.id, ballots, threads, contract_record::no);
  INFO("answers other than 202: " << cast.others());
  CHECK(cast.accepted() == total);

  const double opened[2] = {metric(s.port(0), accepted_total) - before[0] - 1,
                            metric(s.port(1), accepted_total) - before[1] - 1};
  // Each worker keeps its own idle upstream connections (keepalive 32 each): with `threads`
  // requests in flight at most, a worker never needs more than `threads` to each instance.
  const int workers = proxy.workers();
  const int bound = workers * 2 * threads;
  std::cout << "replicas-keepalive: " << total << " votes on fresh client connections through nginx (" << workers
            << " workers): " << opened[0] << " + " << opened[1] << " upstream connections (bound " << bound << ")\n";
  INFO(opened[0] << " connections to instance 0 and " << opened[1] << " to instance 1 for " << total
                 << " votes; nginx has " << workers << " workers");
  REQUIRE(workers >= 1);
  REQUIRE(bound < total / 2);  // or the bound could not tell reuse from a connection per vote
  CHECK(opened[0] + opened[1] <= bound);
  CHECK(opened[0] >= 1);  // both replicas got traffic
  CHECK(opened[1] >= 1);

  const auto r = await_results(s.port(0), poll, [&](const auto& res) { return stored(res, total); });
  INFO(boost::json::serialize(r));
  CHECK(r.at("participation").as_object().at("unique_actors").as_int64() == total);
  CHECK(r.at("participation").as_object().at("duplicates").as_int64() == 0);
}
