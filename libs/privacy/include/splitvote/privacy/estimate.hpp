// Turning stored counts into honest estimates with uncertainty (DESIGN §6).
#pragma once

#include "splitvote/privacy/noise.hpp"

#include <cstdint>
#include <vector>

namespace splitvote::privacy {

/// What the ballotbox holds for one poll.
struct tally {
  std::vector<std::int64_t> ballots_per_choice;  // C_j, real and decoy ballots alike
  std::int64_t envelopes = 0;                    // n, one real ballot each
};

/// The mechanism the counts went through. Decoy choices are uniform over the m choices.
struct mechanism {
  double flip_probability = 0;  // randomized response p
  release_noise_spec noise;     // the release noise Z_j added to each count
};

struct choice_estimate {
  double estimate = 0;  // unbiased estimate of the real ballots for this choice
  double std_error = 0;
  double ci_low = 0;  // 95% interval
  double ci_high = 0;
  double share = 0;  // for display: clamped at 0 and normalised to sum to one
};

struct estimate_result {
  std::int64_t ballots = 0;  // N
  std::int64_t decoys = 0;   // D = N - n
  std::vector<choice_estimate> choices;
};

/// n̂_j = (C_j + Z_j − D/m − p·n/m) / (1 − p), with the variance of DESIGN §6.
/// `released` are the counts as released (C_j + Z_j); `t` supplies n and N.
/// The 95% interval is n̂_j ± w/(1 − p) where w is the 95% quantile of |N + Z|, N normal
/// with the decoy and randomized-response variance and Z the exact release noise: a plain
/// ±1.96·sd would under-cover when the Laplace tails dominate.
estimate_result estimate(const tally& t, const std::vector<std::int64_t>& released, const mechanism& m);

/// What the estimate needs of a tally: its totals. A release keeps only these beside its
/// noisy counts, never the exact count per choice.
struct totals {
  std::int64_t ballots = 0;    // N
  std::int64_t envelopes = 0;  // n
};
totals totals_of(const tally& t);

/// The same, from totals; `released` has one count per choice.
estimate_result estimate(const totals& t, const std::vector<std::int64_t>& released, const mechanism& m);

}  // namespace splitvote::privacy
