#include "splitvote/privacy/noise.hpp"
#include "splitvote/privacy/randomized_response.hpp"

#include "splitvote/testing/statistics.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <map>

using namespace splitvote;
using privacy::noise_mechanism;
using privacy::release_noise_spec;

namespace {

/// Pearson's statistic of `observed` against `pmf`, pooling the tails where expected < 5.
template <typename Pmf>
double chi_squared(const std::map<std::int64_t, int>& observed, Pmf pmf, int draws, std::int64_t reach, int& dof) {
  double stat = 0, obs = 0, exp = 0;
  dof = -1;
  auto count = [&](std::int64_t z) {
    auto it = observed.find(z);
    return it == observed.end() ? 0 : it->second;
  };
  // Left tail pooled into the first cell, right tail into the last.
  double left = 0;
  for (const auto& [z, n] : observed)
    if (z < -reach) left += n;
  obs = left;
  for (std::int64_t z = -reach; z <= reach; ++z) {
    exp += draws * pmf(z);
    obs += count(z);
    if (exp >= 5) {
      stat += (obs - exp) * (obs - exp) / exp;
      obs = exp = 0;
      ++dof;
    }
  }
  double right = 0;
  for (const auto& [z, n] : observed)
    if (z > reach) right += n;
  obs += right;
  double tail_exp = 0;
  for (std::int64_t z = reach + 1; z <= reach * 4; ++z) tail_exp += draws * pmf(z);
  exp += tail_exp;
  if (exp > 0) stat += (obs - exp) * (obs - exp) / std::max(exp, 1e-9);
  return stat;
}

std::map<std::int64_t, int> sample(const release_noise_spec& spec, int draws, std::uint64_t seed) {
  auto rng = random::seeded_source(seed);
  std::map<std::int64_t, int> out;
  for (int i = 0; i < draws; ++i) ++out[spec.sample(*rng)];
  return out;
}

release_noise_spec laplace(double eps) { return {noise_mechanism::discrete_laplace, eps, 0}; }
release_noise_spec gaussian(double eps, double delta) { return {noise_mechanism::discrete_gaussian, eps, delta}; }

}  // namespace

TEST_CASE("bernoulli_exp matches exp(-gamma)", "[unit][statistics]") {
  auto rng = random::seeded_source(21);
  for (const auto& [num, den] : std::vector<std::pair<int, int>>{{1, 2}, {1, 1}, {5, 2}, {0, 1}}) {
    int hits = 0;
    const int n = 40000;
    for (int i = 0; i < n; ++i) hits += privacy::bernoulli_exp(*rng, num, den);
    const double p = std::exp(-double(num) / den);
    INFO(num << "/" << den);
    CHECK(std::abs(hits / double(n) - p) < 5 * std::sqrt(p * (1 - p) / n) + 1e-12);
  }
}

TEST_CASE("the discrete Laplace and Gaussian samplers fit their exact pmf", "[unit][statistics]") {
  for (const auto& spec : {laplace(0.5), laplace(1.0), gaussian(0.5, 1e-6)}) {
    const int draws = 40000;
    int dof = 0;
    const auto reach = static_cast<std::int64_t>(6 * std::sqrt(spec.variance())) + 2;
    const double stat = chi_squared(
        sample(spec, draws, 31), [&](std::int64_t z) { return privacy::noise_probability(spec, z); }, draws, reach,
        dof);
    INFO(privacy::to_string(spec.mechanism) << " eps " << spec.epsilon << ": chi2 " << stat << " dof " << dof);
    CHECK(stat < testing::chi_squared_critical(dof));
  }
}

TEST_CASE("the goodness-of-fit test rejects noise whose scale is 30% off", "[unit][statistics]") {
  // Power check: sample at a scale 30% off and test against the intended pmf.
  const std::vector<std::pair<release_noise_spec, release_noise_spec>> pairs = {
      {laplace(0.5), laplace(0.5 / 1.3)},                // Laplace scale 1/ε, 30% wider
      {gaussian(0.5, 1e-6), gaussian(0.5 * 1.3, 1e-6)},  // Gaussian σ ∝ 1/ε, 30% narrower
  };
  for (const auto& [truth, wrong] : pairs) {
    const int draws = 40000;
    int dof = 0;
    const auto reach = static_cast<std::int64_t>(6 * std::sqrt(truth.variance())) + 2;
    const double stat = chi_squared(
        sample(wrong, draws, 32), [&truth = truth](std::int64_t z) { return privacy::noise_probability(truth, z); },
        draws, reach, dof);
    INFO(privacy::to_string(truth.mechanism) << ": chi2 " << stat << " dof " << dof);
    CHECK(stat > testing::chi_squared_critical(dof));
  }
}

TEST_CASE("noise variance: discrete Laplace 2t/(1-t)^2, discrete Gaussian close to sigma^2", "[unit]") {
  const auto l = laplace(0.5);
  const double t = std::exp(-0.5);
  CHECK(l.variance() == Approx(2 * t / ((1 - t) * (1 - t))));
  const auto g = gaussian(0.5, 1e-6);
  CHECK(g.variance() == Approx(g.gaussian_sigma2()).epsilon(0.01));
  double total = 0;
  for (std::int64_t z = -200; z <= 200; ++z) total += privacy::noise_probability(g, z);
  CHECK(total == Approx(1).epsilon(1e-9));
  CHECK_THROWS_AS(release_noise_spec({noise_mechanism::discrete_gaussian, 2.0, 1e-6}).validate(),
                  std::invalid_argument);
  CHECK_THROWS_AS(release_noise_spec({noise_mechanism::discrete_laplace, 0, 0}).validate(), std::invalid_argument);
}

TEST_CASE("randomized response keeps the choice with probability 1-p+p/m, else uniform", "[unit][statistics]") {
  const privacy::randomized_response_spec rr{0.3};
  const std::uint32_t m = 4;
  auto rng = random::seeded_source(41);
  std::vector<int> counts(m, 0);
  const int n = 80000;
  for (int i = 0; i < n; ++i) ++counts[privacy::apply_randomized_response(1, m, rr, *rng)];
  std::vector<double> expected(m, n * rr.p / m);
  expected[1] = n * (1 - rr.p + rr.p / m);
  double stat = 0;
  for (std::uint32_t j = 0; j < m; ++j) stat += (counts[j] - expected[j]) * (counts[j] - expected[j]) / expected[j];
  CHECK(stat < testing::chi_squared_critical(3));
  // Power: the same test against p = 0.3 / 1.3 must reject.
  const privacy::randomized_response_spec wrong{0.3 / 1.3};
  std::vector<int> wrong_counts(m, 0);
  for (int i = 0; i < n; ++i) ++wrong_counts[privacy::apply_randomized_response(1, m, wrong, *rng)];
  double wrong_stat = 0;
  for (std::uint32_t j = 0; j < m; ++j)
    wrong_stat += (wrong_counts[j] - expected[j]) * (wrong_counts[j] - expected[j]) / expected[j];
  CHECK(wrong_stat > testing::chi_squared_critical(3));

  CHECK(rr.worst_case_posterior(m) == Approx(0.775));
  CHECK(rr.epsilon(m) == Approx(std::log(0.775 / 0.075)));
  CHECK_THROWS_AS(privacy::randomized_response_spec{1.0}.validate(), std::invalid_argument);
}

TEST_CASE("a linked ballot moves the odds by at most e^eps; at skewed shares it says more than 1 - p + p/m", "[unit]") {
  const privacy::randomized_response_spec rr{0.1};
  CHECK(rr.odds_ratio_bound(2) == Approx(19));  // 0.95 / 0.05
  CHECK(std::log(rr.odds_ratio_bound(2)) == Approx(rr.epsilon(2)));
  CHECK(rr.posterior(0.5, 2) == Approx(rr.worst_case_posterior(2)));  // even odds: 0.95
  // Published shares of 90/10: a ballot showing the majority's choice gives 0.994 (the
  // statement used to say 0.95 whatever the shares).
  CHECK(rr.posterior(0.9, 2) == Approx(0.9 * 0.95 / (0.9 * 0.95 + 0.1 * 0.05)));
  CHECK(rr.posterior(0.9, 2) > 0.99);
  // Odds after / odds before never exceed e^eps, for any prior.
  for (double prior : {0.01, 0.1, 0.5, 0.9, 0.99}) {
    const double post = rr.posterior(prior, 3);
    CHECK((post / (1 - post)) / (prior / (1 - prior)) <= rr.odds_ratio_bound(3) * (1 + 1e-12));
  }
  const privacy::randomized_response_spec off{0};
  CHECK(std::isinf(off.odds_ratio_bound(2)));
  CHECK(off.posterior(0.3, 2) == 1);
  CHECK(off.posterior(0, 2) == 0);
  // A tiny p is refused: it would print a finite epsilon and protect nothing.
  CHECK_THROWS_AS(privacy::randomized_response_spec{1e-7}.validate(), std::invalid_argument);
  CHECK_THROWS_AS(privacy::randomized_response_spec{0.0009}.validate(), std::invalid_argument);
  CHECK_NOTHROW(privacy::randomized_response_spec{0.001}.validate());
  CHECK_NOTHROW(privacy::randomized_response_spec{0}.validate());
}
