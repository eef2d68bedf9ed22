// Release noise: exact discrete Laplace and discrete Gaussian samplers (Canonne, Kamath, Steinke 2020).
#pragma once

#include "splitvote/random/random_source.hpp"

#include <cstdint>
#include <string>

namespace splitvote::privacy {

/// Bernoulli(exp(-num/den)), exactly, with integer arithmetic only (CKS Algorithm 1).
bool bernoulli_exp(random::random_source& rng, unsigned __int128 num, unsigned __int128 den);

/// Discrete Laplace with scale t/s: P(x) ∝ exp(-|x|·s/t) (CKS Algorithm 2).
std::int64_t sample_discrete_laplace(random::random_source& rng, std::uint64_t s, std::uint64_t t);

/// Discrete Gaussian with variance parameter sigma² = num/den: P(x) ∝ exp(-x²/(2σ²)) (CKS Algorithm 3).
std::int64_t sample_discrete_gaussian(random::random_source& rng, std::uint64_t sigma2_num, std::uint64_t sigma2_den);

enum class noise_mechanism { none, discrete_laplace, discrete_gaussian };

std::string to_string(noise_mechanism m);
/// Throws std::invalid_argument on an unknown name.
noise_mechanism parse_noise_mechanism(const std::string& name);

/// How each release's counts are perturbed. Each count changes by at most 1 when one vote
/// is added or removed (sensitivity 1), so per release:
/// - discrete Laplace: P(z) ∝ exp(-ε|z|), ε-DP for each count;
/// - discrete Gaussian: σ = sqrt(2 ln(1.25/δ))/ε, (ε, δ)-DP for each count (ε ≤ 1).
struct release_noise_spec {
  noise_mechanism mechanism = noise_mechanism::none;
  double epsilon = 0;
  double delta = 0;

  /// Throws std::invalid_argument with a message fit for an API client.
  void validate() const;
  /// Var(Z), exact for the sampled distribution (0 for none).
  double variance() const;
  /// Draws one noise value.
  std::int64_t sample(random::random_source& rng) const;
  /// σ² of the discrete Gaussian (for display and tests).
  double gaussian_sigma2() const;

  friend bool operator==(const release_noise_spec&, const release_noise_spec&) = default;
};

/// P(Z = z) of the spec's noise, exact up to floating point (for goodness-of-fit tests).
double noise_probability(const release_noise_spec& spec, std::int64_t z);

/// Rational form used by the samplers: ε = s/t with t = 10^6.
inline constexpr std::uint64_t rational_denominator = 1000000;

}  // namespace splitvote::privacy
