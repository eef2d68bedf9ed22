// End to end: a connection stops counting against the limits when it closes.
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

TEST_CASE("a connection stops counting when it closes: a client that opens one per vote is never refused",
          "[e2e][connections]") {
  // Three times the client's threads as the cap: a closed connection that still counted (the vote's
  // deadline timer kept its session for kafka.delivery_timeout_ms, 5 s) filled it within a
  // second at this rate, and the rest got 503 "connections".
  stack s("e2e-fresh-connections", {{}, {{"SPLITVOTE_HTTP__MAX_CONNECTIONS", "12"}}});
  const auto poll = start_with_poll(s, exact_lunch_poll);
  constexpr int threads = 4, per_thread = 150;
  std::vector<vote> ballots;
  for (int i = 0; i < threads * per_thread; ++i) ballots.push_back({"fresh-" + std::to_string(i), "pizza"});
  const auto cast = cast_votes_fresh(s.port(), poll.id, ballots, threads);
  const auto last_answer = std::chrono::steady_clock::now();
  INFO("answers other than 202: " << cast.others());
  CHECK(cast.accepted() == threads * per_thread);
  // Back to idle at once: only the scrape's own connection counts.
  const bool idle = eventually([&] { return metric(s.port(), "splitvote_http_open_connections") == 1; }, 1s);
  INFO("open connections now: "
       << metric(s.port(), "splitvote_http_open_connections") << ", "
       << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - last_answer).count()
       << " ms after the last answer");
  CHECK(idle);
  check_counts(await_results(s.port(), poll, [&](const auto& r) { return settled(r, threads * per_thread); }),
               threads * per_thread, 0, 0);
}
