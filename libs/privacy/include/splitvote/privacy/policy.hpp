// A poll's privacy policy (decoys, randomized response, release noise, budget) and what it promises.
#pragma once

#include "splitvote/privacy/decoys.hpp"
#include "splitvote/privacy/noise.hpp"
#include "splitvote/privacy/randomized_response.hpp"

namespace splitvote::privacy {

struct policy {
  decoy_spec decoys;
  randomized_response_spec rr;
  release_noise_spec noise;
  double budget = 0;  // total privacy loss the poll's releases may spend (ε); 0 without noise

  /// The product's defaults for a poll that does not say: decoys Poisson(2) capped at 8,
  /// randomized response p = 0.1, discrete Laplace ε = 1 per count, budget for 10 releases.
  static policy defaults();

  /// Throws std::invalid_argument with a message fit for an API client.
  void validate() const;

  /// The privacy loss of one release of all m counts. Changing one voter's choice moves two
  /// counts by one each: 2ε for discrete Laplace (pure ε-DP, basic composition); for the
  /// discrete Gaussian the L2 sensitivity is √2, so √2·ε (with δ) as a conservative figure.
  double release_cost() const;

  friend bool operator==(const policy&, const policy&) = default;
};

}  // namespace splitvote::privacy
