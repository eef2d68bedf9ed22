#include "splitvote/privacy/release_rule.hpp"

#include <algorithm>
#include <cstdint>

namespace splitvote::privacy {

std::chrono::milliseconds release_wait(const release_pacing& pacing, int releases) {
  if (releases <= 0) return std::chrono::milliseconds(0);
  const int doublings = std::min(releases - 1, 30);  // 2^30 intervals: forever, without overflow
  return std::chrono::milliseconds(pacing.interval.count() * (std::int64_t{1} << doublings));
}

release_call decide_release(const release_pacing& pacing, const release_history& history, const release_state& state) {
  constexpr double slack = 1e-9;  // ε sums of binary fractions
  const bool fits_budget = history.spent + pacing.cost <= pacing.budget + slack;
  release_call call;
  call.budget_exhausted = !fits_budget;
  if (!fits_budget) return call;
  const bool wanted = (history.releases == 0 || state.tally_changed) && state.stores_agree;

  if (state.closed_at) {
    const auto final_at = *state.closed_at + pacing.settle;
    call.next_not_before = final_at;
    call.draw = wanted && state.now >= final_at;
    return call;
  }
  // Open: one release's cost stays for the close.
  const bool fits_open = history.spent + 2 * pacing.cost <= pacing.budget + slack;
  call.kept_for_close = !fits_open;
  if (!fits_open) return call;
  const auto due = history.last ? *history.last + release_wait(pacing, history.releases) : state.now;
  call.next_not_before = due;
  call.draw = wanted && state.now >= due;
  return call;
}

}  // namespace splitvote::privacy
