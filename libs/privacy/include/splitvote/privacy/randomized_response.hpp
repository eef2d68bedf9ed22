// Randomized response: with probability p the choice is replaced by one drawn uniformly from all m.
#pragma once

#include "splitvote/random/random_source.hpp"

#include <cstdint>

namespace splitvote::privacy {

struct randomized_response_spec {
  double p = 0;  // flip probability, 0 <= p < 1

  /// Throws std::invalid_argument with a message fit for an API client.
  void validate() const;
  /// ε of the local mechanism: ln((1 − p + p/m) / (p/m)); infinite for p = 0.
  double epsilon(std::uint32_t m) const;
  /// The most an attacker who links a ballot to its voter can be sure of the vote: 1 − p + p/m.
  double worst_case_posterior(std::uint32_t m) const;

  friend bool operator==(const randomized_response_spec&, const randomized_response_spec&) = default;
};

/// The choice that leaves ingest: `choice` with probability 1 − p, else uniform over m (which
/// may be `choice` again). p is applied exactly at a resolution of 2⁻³².
std::uint32_t apply_randomized_response(std::uint32_t choice, std::uint32_t m,
                                        const randomized_response_spec& spec,
                                        random::random_source& rng);

}  // namespace splitvote::privacy
