#include "splitvote/privacy/release_rule.hpp"
#include "splitvote/privacy/policy.hpp"

#include <catch2/catch.hpp>

using namespace splitvote;
using namespace std::chrono_literals;
using privacy::decide_release;
using privacy::release_history;
using privacy::release_state;

namespace {

const auto t0 = privacy::release_clock::time_point{} + 1000h;

privacy::release_pacing defaults() {
  const auto p = privacy::policy::defaults();
  return {p.release_cost(), p.budget, 60s, 330s};
}

/// A page that reads the results every `every` with the tally always changing (a vote between
/// reads): the releases it draws, and when.
std::vector<privacy::release_clock::time_point> watch(const privacy::release_pacing& pacing, std::chrono::seconds every,
                                                      std::chrono::hours for_how_long) {
  release_history h;
  std::vector<privacy::release_clock::time_point> drawn;
  for (auto now = t0; now < t0 + for_how_long; now += every) {
    if (!decide_release(pacing, h, {true, true, std::nullopt, now}).draw) continue;
    ++h.releases;
    h.spent += pacing.cost;
    h.last = now;
    drawn.push_back(now);
  }
  return drawn;
}

}  // namespace

TEST_CASE("release rule: watching the page all week spends the open part of the budget slowly, never the close's",
          "[unit][release]") {
  const auto pacing = defaults();
  REQUIRE(pacing.budget == Approx(10 * pacing.cost));  // ten releases
  const auto drawn = watch(pacing, 3s, 24h * 7);
  REQUIRE(drawn.size() == 9);  // nine while open; the tenth is the close's
  // The waits double: 60 s, 120 s, 240 s, ...; the ninth comes after 60 s · (2^8 − 1) = 4.25 h.
  for (std::size_t i = 1; i < drawn.size(); ++i) {
    const auto wait = std::chrono::duration_cast<std::chrono::seconds>(drawn[i] - drawn[i - 1]);
    CHECK(wait >= std::chrono::seconds(60 << (i - 1)));
    CHECK(wait < std::chrono::seconds(60 << (i - 1)) + 3s);
  }
  CHECK(drawn.back() - drawn.front() >= 255min);
  // The old rule (one per interval while the budget lasts) spent all ten in about nine minutes.

  // What is left is the close's: after the close (and the settling time) the final release.
  release_history h{9, 9 * pacing.cost, drawn.back()};
  const auto open = decide_release(pacing, h, {true, true, std::nullopt, t0 + 24h * 8});
  CHECK_FALSE(open.draw);
  CHECK(open.kept_for_close);
  CHECK_FALSE(open.budget_exhausted);
  const auto closed_at = t0 + 24h * 8;
  const auto settling = decide_release(pacing, h, {true, true, closed_at, closed_at + 10s});
  CHECK_FALSE(settling.draw);
  CHECK(settling.next_not_before == closed_at + 330s);
  const auto final_call = decide_release(pacing, h, {true, true, closed_at, closed_at + 330s});
  CHECK(final_call.draw);  // no pacing after the close
  h = {10, 10 * pacing.cost, closed_at + 330s};
  const auto after = decide_release(pacing, h, {true, true, closed_at, closed_at + 1h});
  CHECK_FALSE(after.draw);
  CHECK(after.budget_exhausted);
}

TEST_CASE("release rule: a release needs a changed tally both stores agree on", "[unit][release]") {
  const auto pacing = defaults();
  CHECK(decide_release(pacing, {}, {true, true, std::nullopt, t0}).draw);         // the first, at once
  CHECK_FALSE(decide_release(pacing, {}, {true, false, std::nullopt, t0}).draw);  // stores disagree
  const release_history one{1, pacing.cost, t0};
  CHECK_FALSE(decide_release(pacing, one, {false, true, std::nullopt, t0 + 1h}).draw);  // unchanged
  CHECK_FALSE(decide_release(pacing, one, {true, true, std::nullopt, t0 + 59s}).draw);  // too soon
  const auto due = decide_release(pacing, one, {true, true, std::nullopt, t0 + 60s});
  CHECK(due.draw);
  CHECK(due.next_not_before == t0 + 60s);
  // Closed with an unchanged tally: the last release stands as the final one; nothing is spent.
  CHECK_FALSE(decide_release(pacing, one, {false, true, t0, t0 + 1h}).draw);
  // Closed before any release: the final one is drawn once settled.
  CHECK(decide_release(pacing, {}, {false, true, t0, t0 + 330s}).draw);
}

TEST_CASE("release rule: a budget of one release keeps it for the close", "[unit][release]") {
  const privacy::release_pacing one{2, 2, 60s, 0s};
  const auto open = decide_release(one, {}, {true, true, std::nullopt, t0});
  CHECK_FALSE(open.draw);
  CHECK(open.kept_for_close);
  CHECK(decide_release(one, {}, {true, true, t0, t0}).draw);
  // A budget of two: one while open, one at the close.
  const privacy::release_pacing two{2, 4, 60s, 0s};
  CHECK(decide_release(two, {}, {true, true, std::nullopt, t0}).draw);
  CHECK(decide_release(two, {1, 2, t0}, {true, true, std::nullopt, t0 + 1h}).kept_for_close);
  CHECK(decide_release(two, {1, 2, t0}, {true, true, t0 + 1h, t0 + 1h}).draw);
  CHECK(privacy::release_wait(two, 0) == 0s);
  CHECK(privacy::release_wait(two, 1) == 60s);
  CHECK(privacy::release_wait(two, 4) == 480s);
  CHECK(privacy::release_wait(two, 1000) > privacy::release_wait(two, 30));  // capped, no overflow
  CHECK(privacy::release_wait(two, 1000).count() > 0);
}
