#include "splitvote/privacy/decoys.hpp"
#include "splitvote/privacy/ballot_plan.hpp"

#include "splitvote/testing/statistics.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>

using namespace splitvote;
using privacy::decoy_distribution;
using privacy::decoy_spec;

namespace {

/// Pearson's chi-squared statistic of observed counts against the spec's exact pmf,
/// merging cells with expected count below 5 into their neighbour.
double chi_squared(const std::map<std::uint32_t, int>& observed, const decoy_spec& truth, int draws, int& dof) {
  double stat = 0, pooled_obs = 0, pooled_exp = 0;
  dof = -1;
  for (std::uint32_t k = 0; k <= decoy_spec::max_decoys; ++k) {
    pooled_exp += draws * privacy::decoy_count_probability(truth, k);
    auto it = observed.find(k);
    pooled_obs += it == observed.end() ? 0 : it->second;
    if (pooled_exp >= 5) {
      stat += (pooled_obs - pooled_exp) * (pooled_obs - pooled_exp) / pooled_exp;
      pooled_obs = pooled_exp = 0;
      ++dof;
    }
  }
  if (pooled_exp > 0) stat += (pooled_obs - pooled_exp) * (pooled_obs - pooled_exp) / std::max(pooled_exp, 1e-9);
  return stat;
}

std::map<std::uint32_t, int> sample(const decoy_spec& spec, int draws, std::uint64_t seed) {
  auto rng = random::seeded_source(seed);
  std::map<std::uint32_t, int> counts;
  for (int i = 0; i < draws; ++i) ++counts[privacy::draw_decoy_count(spec, *rng)];
  return counts;
}

}  // namespace

TEST_CASE("fixed and none draw exactly their count", "[unit]") {
  auto rng = random::seeded_source(3);
  decoy_spec fixed{decoy_distribution::fixed, 3};
  decoy_spec none{};
  for (int i = 0; i < 100; ++i) {
    CHECK(privacy::draw_decoy_count(fixed, *rng) == 3);
    CHECK(privacy::draw_decoy_count(none, *rng) == 0);
  }
}

TEST_CASE("uniform and poisson decoy counts fit their exact distribution", "[unit]") {
  decoy_spec uniform;
  uniform.distribution = decoy_distribution::uniform;
  uniform.min = 1;
  uniform.max = 5;
  decoy_spec poisson = privacy::default_decoys();
  for (const auto& spec : {uniform, poisson}) {
    int dof = 0;
    const double stat = chi_squared(sample(spec, 50000, 11), spec, 50000, dof);
    INFO(privacy::to_string(spec.distribution) << " chi2=" << stat << " dof=" << dof);
    CHECK(stat < testing::chi_squared_critical(dof));
  }
}

TEST_CASE("the goodness-of-fit test rejects a poisson sampler whose mean is 30% off", "[unit]") {
  decoy_spec truth = privacy::default_decoys();
  decoy_spec wrong = truth;
  wrong.mean = truth.mean * 1.3;
  int dof = 0;
  const double stat = chi_squared(sample(wrong, 50000, 12), truth, 50000, dof);
  CHECK(stat > testing::chi_squared_critical(dof));
}

TEST_CASE("poisson pmf with cap sums to one and its mean is below the uncapped mean", "[unit]") {
  const decoy_spec spec = privacy::default_decoys();
  double total = 0;
  for (std::uint32_t k = 0; k <= spec.cap; ++k) total += privacy::decoy_count_probability(spec, k);
  CHECK(total == Approx(1.0).margin(1e-12));
  CHECK(spec.expected_count() < spec.mean);
  CHECK(spec.expected_count() > spec.mean - 0.01);
}

TEST_CASE("decoy specs are validated", "[unit]") {
  decoy_spec s;
  s.distribution = decoy_distribution::uniform;
  s.min = 4;
  s.max = 2;
  CHECK_THROWS_AS(s.validate(), std::invalid_argument);
  s.distribution = decoy_distribution::fixed;
  s.k = 65;
  CHECK_THROWS_AS(s.validate(), std::invalid_argument);
  s.distribution = decoy_distribution::poisson;
  s.mean = 0;
  CHECK_THROWS_AS(s.validate(), std::invalid_argument);
  CHECK_THROWS_AS(privacy::parse_decoy_distribution("gaussian"), std::invalid_argument);
}

TEST_CASE("a ballot plan holds the real choice plus k uniform decoys in random order", "[unit]") {
  auto rng = random::seeded_source(5);
  const decoy_spec spec{decoy_distribution::fixed, 3};
  const std::uint32_t m = 4;
  std::vector<int> choice_counts(m, 0);
  std::vector<int> position_of_first_real(4, 0);
  const int polls = 20000;
  for (int i = 0; i < polls; ++i) {
    const auto plan = privacy::plan_ballots(2, m, spec, *rng);
    REQUIRE(plan.size() == 4);
    REQUIRE(std::count(plan.begin(), plan.end(), 2u) >= 1);
    for (auto c : plan) ++choice_counts[c];
    ++position_of_first_real[std::find(plan.begin(), plan.end(), 2u) - plan.begin()];
  }
  // Decoys: 3 per plan, uniform over 4 choices; the real ballot adds one to choice 2.
  const double decoy_expect = polls * 3.0 / m;
  for (std::uint32_t c = 0; c < m; ++c) {
    const double expect = decoy_expect + (c == 2 ? polls : 0);
    CHECK(std::abs(choice_counts[c] - expect) < 5 * std::sqrt(decoy_expect));
  }
  // If the real ballot always came first, position 0 would hold every plan.
  CHECK(position_of_first_real[0] < polls * 0.7);
  CHECK(position_of_first_real[3] > 0);
  CHECK_THROWS_AS(privacy::plan_ballots(4, 4, spec, *rng), std::invalid_argument);
}
