#include "splitvote/privacy/noise.hpp"

#include "splitvote/privacy/names.hpp"

#include <cmath>
#include <stdexcept>

namespace splitvote::privacy {
namespace {

using u128 = unsigned __int128;

/// Uniform in [0, bound) for 128-bit bounds, exact (rejection).
u128 uniform128(random::random_source& rng, u128 bound) {
  if (bound <= std::numeric_limits<std::uint64_t>::max()) return rng.uniform(static_cast<std::uint64_t>(bound));
  const u128 max = ~u128{0};
  const u128 limit = max - (max % bound + 1) % bound;
  for (;;) {
    const u128 v = (u128{rng.next_u64()} << 64) | rng.next_u64();
    if (v <= limit) return v % bound;
  }
}

bool bernoulli128(random::random_source& rng, u128 num, u128 den) { return uniform128(rng, den) < num; }

/// Bernoulli(exp(-γ)) for γ = num/den in [0, 1].
bool bernoulli_exp_unit(random::random_source& rng, u128 num, u128 den) {
  u128 k = 1;
  for (;;) {
    if (!bernoulli128(rng, num, den * k)) break;  // A ~ Bernoulli(γ/k)
    ++k;
  }
  return k % 2 == 1;
}

std::uint64_t to_rational(double x) {
  return static_cast<std::uint64_t>(std::llround(x * static_cast<double>(rational_denominator)));
}

}  // namespace

bool bernoulli_exp(random::random_source& rng, u128 num, u128 den) {
  if (den == 0) throw std::invalid_argument("bernoulli_exp: zero denominator");
  while (num > den) {
    if (!bernoulli_exp_unit(rng, 1, 1)) return false;
    num -= den;
  }
  return bernoulli_exp_unit(rng, num, den);
}

std::int64_t sample_discrete_laplace(random::random_source& rng, std::uint64_t s, std::uint64_t t) {
  if (s == 0 || t == 0) throw std::invalid_argument("discrete Laplace: s and t must be positive");
  for (;;) {
    const std::uint64_t u = rng.uniform(t);
    if (!bernoulli_exp(rng, u, t)) continue;
    std::uint64_t v = 0;
    while (bernoulli_exp(rng, 1, 1)) ++v;
    const u128 x = u128{u} + u128{t} * v;
    const auto y = static_cast<std::int64_t>(x / s);
    const bool negative = rng.uniform(2) == 1;
    if (negative && y == 0) continue;
    return negative ? -y : y;
  }
}

std::int64_t sample_discrete_gaussian(random::random_source& rng, std::uint64_t sigma2_num, std::uint64_t sigma2_den) {
  if (sigma2_num == 0 || sigma2_den == 0) throw std::invalid_argument("discrete Gaussian: σ² must be positive");
  // t = floor(σ) + 1, from the integer square root of num/den.
  std::uint64_t t = static_cast<std::uint64_t>(std::sqrt(static_cast<double>(sigma2_num) / sigma2_den));
  while (u128{t} * t * sigma2_den > sigma2_num) --t;
  while (u128{t + 1} * (t + 1) * sigma2_den <= sigma2_num) ++t;
  t += 1;
  for (;;) {
    const std::int64_t y = sample_discrete_laplace(rng, 1, t);
    const u128 abs_y = static_cast<u128>(y < 0 ? -y : y);
    // Accept with probability exp(-(|y| - σ²/t)² / (2σ²)); with σ² = a/b this is
    // exp(-(|y|·t·b − a)² / (2·a·t²·b)).
    const u128 a = sigma2_num, b = sigma2_den;
    const u128 lhs = abs_y * t * b;
    const u128 diff = lhs > a ? lhs - a : a - lhs;
    if (bernoulli_exp(rng, diff * diff, 2 * a * u128{t} * t * b)) return y;
  }
}

namespace {

constexpr name_table<noise_mechanism, 3> mechanism_names{{{noise_mechanism::none, "none"},
                                                          {noise_mechanism::discrete_laplace, "discrete_laplace"},
                                                          {noise_mechanism::discrete_gaussian, "discrete_gaussian"}}};

}  // namespace

std::string to_string(noise_mechanism m) { return std::string(name_of(mechanism_names, m)); }

noise_mechanism parse_noise_mechanism(const std::string& name) {
  return parse_named(mechanism_names, name, "release_noise.mechanism");
}

void release_noise_spec::validate() const {
  if (mechanism == noise_mechanism::none) return;
  if (!(epsilon >= 0.01 && epsilon <= 10)) throw std::invalid_argument("release_noise.epsilon must be in [0.01, 10]");
  if (mechanism == noise_mechanism::discrete_gaussian) {
    if (!(delta > 0 && delta < 0.01)) throw std::invalid_argument("release_noise.delta must be in (0, 0.01)");
    if (epsilon > 1) throw std::invalid_argument("release_noise.epsilon must be at most 1 for discrete_gaussian");
  }
}

double release_noise_spec::gaussian_sigma2() const {
  const double sigma = std::sqrt(2 * std::log(1.25 / delta)) / epsilon;
  return sigma * sigma;
}

std::int64_t release_noise_spec::sample(random::random_source& rng) const {
  switch (mechanism) {
    case noise_mechanism::none:
      return 0;
    case noise_mechanism::discrete_laplace:
      return sample_discrete_laplace(rng, to_rational(epsilon), rational_denominator);
    case noise_mechanism::discrete_gaussian:
      return sample_discrete_gaussian(rng, to_rational(gaussian_sigma2()), rational_denominator);
  }
  throw std::logic_error("unknown noise mechanism");
}

double noise_probability(const release_noise_spec& spec, std::int64_t z) {
  switch (spec.mechanism) {
    case noise_mechanism::none:
      return z == 0 ? 1 : 0;
    case noise_mechanism::discrete_laplace: {
      // The sampler uses ε rounded to the rational grid; so does this.
      const double eps = static_cast<double>(to_rational(spec.epsilon)) / rational_denominator;
      const double t = std::exp(-eps);
      return (1 - t) / (1 + t) * std::pow(t, std::abs(static_cast<double>(z)));
    }
    case noise_mechanism::discrete_gaussian: {
      const double s2 = static_cast<double>(to_rational(spec.gaussian_sigma2())) / rational_denominator;
      double norm = 0;
      const auto reach = static_cast<std::int64_t>(std::ceil(12 * std::sqrt(s2))) + 1;
      for (std::int64_t k = -reach; k <= reach; ++k) norm += std::exp(-double(k) * k / (2 * s2));
      return std::exp(-double(z) * z / (2 * s2)) / norm;
    }
  }
  return 0;
}

double release_noise_spec::variance() const {
  switch (mechanism) {
    case noise_mechanism::none:
      return 0;
    case noise_mechanism::discrete_laplace: {
      const double t = std::exp(-static_cast<double>(to_rational(epsilon)) / rational_denominator);
      return 2 * t / ((1 - t) * (1 - t));
    }
    case noise_mechanism::discrete_gaussian: {
      const double s2 = gaussian_sigma2();
      const auto reach = static_cast<std::int64_t>(std::ceil(12 * std::sqrt(s2))) + 1;
      double v = 0;
      for (std::int64_t k = -reach; k <= reach; ++k) v += double(k) * k * noise_probability(*this, k);
      return v;
    }
  }
  return 0;
}

}  // namespace splitvote::privacy
