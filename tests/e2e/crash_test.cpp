// End to end with crashes: kill -9 of the consumers mid-stream, and decoys counted exactly.
#include <boost/json/serialize.hpp>
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/stack.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <csignal>
#include <iostream>
#include <mutex>

using namespace splitvote::testing;
using svc = stack::service;

namespace {

std::vector<vote> split(const std::string& prefix, const std::vector<std::pair<std::string, int>>& counts) {
  std::vector<vote> votes;
  int i = 0;
  for (const auto& [choice, n] : counts)
    for (int k = 0; k < n; ++k) votes.push_back({prefix + std::to_string(i++), choice});
  return votes;
}

std::int64_t count_at(const boost::json::object& r, const char* group, const char* key) {
  return r.at(group).as_object().at(key).as_int64();
}

}  // namespace

TEST_CASE("kill -9 of the ballotbox and the pollbook mid-stream: the counts stay exact", "[e2e][crash]") {
  stack s("e2e-crash");
  s.start_all_assigned();  // both consumers in the group and writing, so the kills hit live work
  const auto poll = create_poll(
      s.port(),
      R"({"title":"Crash","choices":["red","green","blue"],"privacy":{"decoys":{"distribution":"none"},"randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})");

  // The faults are injected from the progress callback, at fixed points of the stream.
  std::mutex faults;
  const auto cast =
      cast_votes(s.port(), poll.id, split("crash-", {{"red", 700}, {"green", 500}, {"blue", 300}}), 4, [&](int done) {
        std::lock_guard lock(faults);
        if (done == 300) {
          CHECK(s.wait_for_log(svc::ballotbox, 0, "batch_committed"));
          s.process(svc::ballotbox)->signal(SIGKILL);
        }
        if (done == 600) s.start(svc::ballotbox);
        if (done == 800) {
          CHECK(s.wait_for_log(svc::pollbook, 0, "batch_committed"));
          s.process(svc::pollbook)->signal(SIGKILL);
        }
        if (done == 1100) s.start(svc::pollbook);
      });
  REQUIRE(cast.accepted() == 1500);
  // Each restarted instance rejoined the group and wrote again (its log is appended).
  CHECK(s.wait_for_log(svc::ballotbox, 0, "consumer_started", 2));
  CHECK(s.wait_for_log(svc::pollbook, 0, "consumer_started", 2));

  const auto r = await_results(
      s.port(), poll,
      [](const auto& r) {
        return count_at(r, "participation", "unique_actors") == 1500 &&
               count_at(r, "consistency", "ballotbox_envelopes") == 1500 &&
               r.at("consistency").as_object().at("complete").as_bool();
      },
      std::chrono::seconds(90));
  INFO(boost::json::serialize(r));
  CHECK(count_at(r, "participation", "submissions") == 1500);
  CHECK(count_at(r, "participation", "duplicates") == 0);
  CHECK(count_at(r, "consistency", "ballotbox_envelopes") == 1500);
  CHECK(estimate_of(r, "red") == 700);
  CHECK(estimate_of(r, "green") == 500);
  CHECK(estimate_of(r, "blue") == 300);
}

TEST_CASE("fixed k=3 decoys: four ballots per envelope, estimates sum to n and sit within 4 sd", "[e2e][decoys]") {
  stack s("e2e-decoys");
  s.start_all();
  REQUIRE(s.wait_for_log(svc::ballotbox, 0, "partitions_assigned"));
  const auto poll = create_poll(
      s.port(),
      R"({"title":"Decoys","choices":["red","green","blue"],"privacy":{"decoys":{"distribution":"fixed","k":3},"randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})");
  const std::vector<std::pair<std::string, int>> truth = {{"red", 400}, {"green", 250}, {"blue", 150}};
  std::mutex faults;
  const auto cast = cast_votes(s.port(), poll.id, split("decoy-", truth), 4, [&](int done) {
    std::lock_guard lock(faults);
    if (done == 400) {
      CHECK(s.wait_for_log(svc::ballotbox, 0, "batch_committed"));
      s.process(svc::ballotbox)->signal(SIGKILL);
    }
    if (done == 500) s.start(svc::ballotbox);
  });
  REQUIRE(cast.accepted() == 800);

  const auto r = await_results(
      s.port(), poll,
      [](const auto& r) {
        return count_at(r, "consistency", "ballotbox_envelopes") == 800 &&
               r.at("consistency").as_object().at("complete").as_bool();
      },
      std::chrono::seconds(90));
  INFO(boost::json::serialize(r));
  const auto& mech = r.at("mechanism").as_object();
  CHECK(mech.at("envelopes").as_int64() == 800);
  // Four ballots per envelope, and four for each vote a crowd lacked when mixing's wait ran
  // out (the ballotbox's own decoys): never fewer, in whole envelopes' worth.
  const auto ballots = mech.at("ballots").as_int64();
  CHECK(ballots >= 4 * 800);
  CHECK(ballots % 4 == 0);
  CHECK(mech.at("decoy_ballots").as_int64() == ballots - 800);

  double sum = 0;
  const double m = 3, d = static_cast<double>(ballots - 800);
  const double sd = std::sqrt(d * (1 / m) * (1 - 1 / m));
  for (const auto& [choice, n] : truth) {
    const double e = estimate_of(r, choice);
    sum += e;
    CHECK(std::abs(e - n) < 4 * sd);
  }
  CHECK(sum == Approx(800).epsilon(1e-9));
}
