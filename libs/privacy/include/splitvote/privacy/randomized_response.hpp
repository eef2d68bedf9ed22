// Randomized response: with probability p the choice is replaced by one drawn uniformly from all m.
#pragma once

#include "splitvote/random/random_source.hpp"

#include <cstdint>

namespace splitvote::privacy {

struct randomized_response_spec {
  double p = 0;  // flip probability: 0 (off) or min_p <= p < 1

  /// The smallest p that is not 0: below it randomized response protects nothing (ε_rr above
  /// 7.6 for two choices) while a statement would still print a finite ε.
  static constexpr double min_p = 0.001;

  /// Throws std::invalid_argument with a message fit for an API client.
  void validate() const;
  /// ε of the local mechanism: ln((1 − p + p/m) / (p/m)); infinite for p = 0.
  double epsilon(std::uint32_t m) const;
  /// e^ε: the most a ballot linked to its voter multiplies an attacker's odds on any vote,
  /// whatever the attacker believed before; infinite for p = 0.
  double odds_ratio_bound(std::uint32_t m) const;
  /// How sure of a vote an attacker who believed it with probability `prior` can be once a
  /// ballot linked to the voter shows it: prior·a / (prior·a + (1 − prior)·b), a = 1 − p + p/m,
  /// b = p/m.
  double posterior(double prior, std::uint32_t m) const;
  /// The posterior for a prior of 1/m (every choice equally likely beforehand): 1 − p + p/m.
  /// With skewed beliefs (published shares of 90/10) a linked ballot says more: `posterior`.
  double worst_case_posterior(std::uint32_t m) const;

  friend bool operator==(const randomized_response_spec&, const randomized_response_spec&) = default;
};

/// The choice that leaves ingest: `choice` with probability 1 − p, else uniform over m (which
/// may be `choice` again). p is applied exactly at a resolution of 2⁻³².
std::uint32_t apply_randomized_response(std::uint32_t choice, std::uint32_t m, const randomized_response_spec& spec,
                                        random::random_source& rng);

}  // namespace splitvote::privacy
