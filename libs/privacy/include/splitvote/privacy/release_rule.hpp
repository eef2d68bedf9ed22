// When a poll's results may draw a new noisy release: the budget, one release kept for the close, a slowing pace.
#pragma once

#include <chrono>
#include <optional>

namespace splitvote::privacy {

using release_clock = std::chrono::system_clock;

/// The poll's and the operator's settings for releases.
struct release_pacing {
  double cost = 0;    // ε of one release (policy::release_cost)
  double budget = 0;  // total ε of the poll (policy::budget)
  /// The wait between the first and the second release; each later wait is twice the one
  /// before it, so reading the results all day spends the open part of the budget slowly
  /// (the defaults' nine open releases span 4.25 hours with 60 s) and never the close's part.
  std::chrono::milliseconds interval{60000};
  /// After the close, the final release waits this long, so the stores have written what
  /// mixing held back (the consumers' mixing.max_wait_ms plus a margin).
  std::chrono::milliseconds settle{330000};
};

/// What is known of the poll's releases so far.
struct release_history {
  int releases = 0;                               // drawn so far
  double spent = 0;                               // ε spent so far
  std::optional<release_clock::time_point> last;  // when the latest was drawn
};

/// What the results are doing now.
struct release_state {
  bool tally_changed = true;  // the stores' tally differs from the latest release's
  bool stores_agree = false;  // the pollbook and the ballotbox hold the same number of the poll's votes
  std::optional<release_clock::time_point> closed_at;  // when the poll closed, if it did
  release_clock::time_point now;
};

struct release_call {
  bool draw = false;              // draw a new release now
  bool budget_exhausted = false;  // no release is left to draw (the close's included)
  bool kept_for_close = false;    // open, and only the close's release is left
  /// The earliest time the pace or the close lets the next release be drawn (none: never).
  std::optional<release_clock::time_point> next_not_before;
};

/// The wait after the `releases`-th release before the next: interval · 2^(releases − 1)
/// (0 before the first).
std::chrono::milliseconds release_wait(const release_pacing& pacing, int releases);

/// The rule: while the poll is open a release is drawn for a changed tally both stores agree
/// on, once the pace allows, as long as one release's cost stays in the budget for the close;
/// once closed (and `settle` later), the final release is drawn for a changed tally without
/// waiting on the pace, from what was kept.
release_call decide_release(const release_pacing& pacing, const release_history& history, const release_state& state);

}  // namespace splitvote::privacy
