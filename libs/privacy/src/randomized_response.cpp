#include "splitvote/privacy/randomized_response.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace splitvote::privacy {

void randomized_response_spec::validate() const {
  if (!(p >= 0 && p < 1)) throw std::invalid_argument("randomized_response.p must be in [0, 1)");
  if (p > 0 && p < min_p)
    throw std::invalid_argument(
        "randomized_response.p must be 0 (off) or at least 0.001: below that it protects nothing");
}

double randomized_response_spec::epsilon(std::uint32_t m) const {
  if (p == 0) return std::numeric_limits<double>::infinity();
  return std::log((1 - p + p / m) / (p / m));
}

double randomized_response_spec::odds_ratio_bound(std::uint32_t m) const {
  if (p == 0) return std::numeric_limits<double>::infinity();
  return (1 - p + p / m) / (p / m);
}

double randomized_response_spec::posterior(double prior, std::uint32_t m) const {
  const double a = 1 - p + p / m, b = p / m;
  const double shown = prior * a, other = (1 - prior) * b;
  return shown + other > 0 ? shown / (shown + other) : 0;
}

double randomized_response_spec::worst_case_posterior(std::uint32_t m) const { return 1 - p + p / m; }

std::uint32_t apply_randomized_response(std::uint32_t choice, std::uint32_t m, const randomized_response_spec& spec,
                                        random::random_source& rng) {
  if (choice >= m) throw std::invalid_argument("randomized response: choice out of range");
  constexpr std::uint64_t scale = std::uint64_t{1} << 32;
  const auto threshold = static_cast<std::uint64_t>(std::llround(spec.p * static_cast<double>(scale)));
  if (!rng.bernoulli(threshold, scale)) return choice;
  return static_cast<std::uint32_t>(rng.uniform(m));
}

}  // namespace splitvote::privacy
