#include "splitvote/runtime/signals.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>

using namespace splitvote;

TEST_CASE("a periodic task that throws is reported once per run of failures, and its recovery", "[unit]") {
  // Rounds 1-3 fail, 4-5 succeed, 6-7 fail, then success: two outages, two reports, two recoveries.
  std::atomic<int> round{0}, reports{0}, recoveries{0};
  std::atomic<bool> done{false};
  {
    auto t = runtime::every(
        std::chrono::milliseconds(1),
        [&] {
          const int r = ++round;
          if (r >= 8) done = true;
          if ((r >= 1 && r <= 3) || (r >= 6 && r <= 7)) throw std::runtime_error("down");
        },
        [&](const std::exception& e) {
          CHECK(std::string(e.what()) == "down");
          CHECK(reports == recoveries);  // a new outage only after the last one ended
          ++reports;
        },
        [&] {
          ++recoveries;
          CHECK(recoveries == reports);  // a recovery only after a failure
        });
    for (int i = 0; i < 5000 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(done);
  CHECK(reports == 2);
  CHECK(recoveries == 2);
}

TEST_CASE("a periodic task that never fails reports nothing", "[unit]") {
  std::atomic<int> round{0}, calls{0};
  {
    auto t = runtime::every(
        std::chrono::milliseconds(1), [&] { ++round; }, [&](const std::exception&) { ++calls; }, [&] { ++calls; });
    for (int i = 0; i < 5000 && round < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(round >= 5);
  CHECK(calls == 0);
}
