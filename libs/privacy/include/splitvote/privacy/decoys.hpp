// Decoy ballots: how many each accepted vote adds (DESIGN §5), and their distribution's moments.
#pragma once

#include "splitvote/random/random_source.hpp"

#include <cstdint>
#include <string>

namespace splitvote::privacy {

enum class decoy_distribution { none, fixed, uniform, poisson };

struct decoy_spec {
  decoy_distribution distribution = decoy_distribution::none;
  std::uint32_t k = 0;    // fixed
  std::uint32_t min = 0;  // uniform, inclusive
  std::uint32_t max = 0;  // uniform, inclusive
  double mean = 0;        // poisson
  std::uint32_t cap = 0;  // poisson: draws above cap are truncated to cap

  /// Limits keep an envelope small; the API rejects anything above them.
  static constexpr std::uint32_t max_decoys = 64;
  static constexpr double max_mean = 32;

  /// Throws std::invalid_argument with a message fit for an API client.
  void validate() const;
  /// The expected number of decoys per vote.
  double expected_count() const;
  /// The most decoys one vote can bring (k, max or cap; 0 for none).
  std::uint32_t max_count() const;

  friend bool operator==(const decoy_spec&, const decoy_spec&) = default;
};

/// The product's default: on, Poisson mean 2 capped at 8.
decoy_spec default_decoys();

std::string to_string(decoy_distribution d);
/// Throws std::invalid_argument on an unknown name.
decoy_distribution parse_decoy_distribution(const std::string& name);

/// The number of decoys for one vote.
std::uint32_t draw_decoy_count(const decoy_spec& spec, random::random_source& rng);

/// P(K = k) under the spec, exactly as draw_decoy_count samples it (for goodness-of-fit tests).
double decoy_count_probability(const decoy_spec& spec, std::uint32_t k);

}  // namespace splitvote::privacy
