#include "splitvote/privacy/estimate.hpp"
#include "splitvote/privacy/ballot_plan.hpp"
#include "splitvote/privacy/noise.hpp"
#include "splitvote/privacy/policy.hpp"
#include "splitvote/privacy/randomized_response.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

using namespace splitvote;

TEST_CASE("without decoys or noise the estimate is the count, with no uncertainty", "[unit]") {
  privacy::tally t{{500, 300, 200}, 1000};
  const auto r = privacy::estimate(t, t.ballots_per_choice, {});
  REQUIRE(r.choices.size() == 3);
  CHECK(r.decoys == 0);
  CHECK(r.choices[0].estimate == 500);
  CHECK(r.choices[1].estimate == 300);
  CHECK(r.choices[2].estimate == 200);
  CHECK(r.choices[0].std_error == 0);
  CHECK(r.choices[0].share == Approx(0.5));
}

TEST_CASE("decoys are subtracted exactly: n_j = C_j - D/m", "[unit]") {
  // n = 6 envelopes, N = 12 ballots, so D = 6 decoys over m = 3 choices: 2 expected per choice.
  privacy::tally t{{5, 3, 4}, 6};
  const auto r = privacy::estimate(t, t.ballots_per_choice, {});
  CHECK(r.ballots == 12);
  CHECK(r.decoys == 6);
  CHECK(r.choices[0].estimate == Approx(3));
  CHECK(r.choices[1].estimate == Approx(1));
  CHECK(r.choices[2].estimate == Approx(2));
  // Var = D q (1 - q) = 6 * 1/3 * 2/3
  CHECK(r.choices[0].std_error == Approx(std::sqrt(4.0 / 3.0)));
  CHECK(r.choices[0].ci_low == Approx(3 - 1.96 * std::sqrt(4.0 / 3.0)));
  double shares = 0;
  for (const auto& c : r.choices) shares += c.share;
  CHECK(shares == Approx(1));
}

TEST_CASE("mismatched counts are rejected", "[unit]") {
  privacy::tally t{{1, 2}, 3};
  CHECK_THROWS_AS(privacy::estimate(t, {1, 2, 3}, {}), std::invalid_argument);
  CHECK_THROWS_AS(privacy::estimate(t, {1, 2}, {1.0, {}}), std::invalid_argument);
}

namespace {

struct simulation {
  double max_bias;      // largest |mean(estimate) - truth| over choices, in votes
  double min_coverage;  // smallest fraction of 95% intervals holding the truth
};

struct setting {
  privacy::decoy_spec decoys;
  privacy::randomized_response_spec rr;
  privacy::release_noise_spec noise;
};

/// Simulated polls through the same code the services use: randomized response and ballot
/// planning as in ingest, noise as in a release, then the estimator of the results.
simulation simulate(const std::vector<std::int64_t>& truth, const setting& mech, int polls, std::uint64_t seed) {
  auto rng = random::seeded_source(seed);
  const auto m = static_cast<std::uint32_t>(truth.size());
  std::vector<double> sum(m, 0);
  std::vector<int> covered(m, 0);
  const privacy::mechanism described{mech.rr.p, mech.noise};
  for (int poll = 0; poll < polls; ++poll) {
    privacy::tally t;
    t.ballots_per_choice.assign(m, 0);
    for (std::uint32_t j = 0; j < m; ++j)
      for (std::int64_t v = 0; v < truth[j]; ++v) {
        const auto submitted = privacy::apply_randomized_response(j, m, mech.rr, *rng);
        for (auto c : privacy::plan_ballots(submitted, m, mech.decoys, *rng)) ++t.ballots_per_choice[c];
        ++t.envelopes;
      }
    std::vector<std::int64_t> released = t.ballots_per_choice;
    for (auto& c : released) c += mech.noise.sample(*rng);
    const auto r = privacy::estimate(t, released, described);
    for (std::uint32_t j = 0; j < m; ++j) {
      sum[j] += r.choices[j].estimate;
      covered[j] += (r.choices[j].ci_low <= truth[j] && truth[j] <= r.choices[j].ci_high);
    }
  }
  simulation s{0, 1};
  for (std::uint32_t j = 0; j < m; ++j) {
    s.max_bias = std::max(s.max_bias, std::abs(sum[j] / polls - truth[j]));
    s.min_coverage = std::min(s.min_coverage, covered[j] / double(polls));
  }
  return s;
}

simulation simulate(const std::vector<std::int64_t>& truth, const privacy::decoy_spec& decoys, int polls,
                    std::uint64_t seed) {
  return simulate(truth, setting{decoys, {}, {}}, polls, seed);
}

}  // namespace

TEST_CASE("with decoys the estimate is unbiased and its 95% interval covers 93-97%", "[unit][statistics]") {
  privacy::decoy_spec fixed{privacy::decoy_distribution::fixed, 3};
  const auto poisson = privacy::default_decoys();
  for (const auto& spec : {fixed, poisson}) {
    const auto s = simulate({60, 30, 10}, spec, 2000, 42);
    INFO(privacy::to_string(spec.distribution) << ": bias " << s.max_bias << ", coverage " << s.min_coverage);
    // The estimator's sd is about 6 votes; 2000 polls put the mean within 0.15 * 3 sd.
    CHECK(s.max_bias < 0.5);
    CHECK(s.min_coverage > 0.93);
    CHECK(s.min_coverage < 0.97);
  }
}

TEST_CASE("the coverage check fails an interval that ignores the decoys' variance", "[unit][statistics]") {
  // Power check: shrink the interval by using a wrong (too small) variance and see coverage drop.
  auto rng = random::seeded_source(9);
  privacy::decoy_spec fixed{privacy::decoy_distribution::fixed, 3};
  int covered = 0;
  const int polls = 2000;
  for (int poll = 0; poll < polls; ++poll) {
    privacy::tally t{{0, 0}, 0};
    for (int v = 0; v < 50; ++v) {
      for (auto c : privacy::plan_ballots(0, 2, fixed, *rng)) ++t.ballots_per_choice[c];
      ++t.envelopes;
    }
    const auto r = privacy::estimate(t, t.ballots_per_choice, {});
    const double wrong_half_width = 1.96 * r.choices[0].std_error * 0.5;
    covered += std::abs(r.choices[0].estimate - 50) <= wrong_half_width;
  }
  CHECK(covered / double(polls) < 0.93);
}

TEST_CASE("every mechanism and their mix: unbiased, and 95% intervals cover 93-97%", "[unit][statistics]") {
  const privacy::decoy_spec none{};
  const auto poisson = privacy::default_decoys();
  const privacy::randomized_response_spec rr{0.25};
  const privacy::release_noise_spec laplace{privacy::noise_mechanism::discrete_laplace, 0.5, 0};
  const privacy::release_noise_spec gaussian{privacy::noise_mechanism::discrete_gaussian, 0.5, 1e-6};
  struct named {
    const char* name;
    setting mech;
  };
  const std::vector<named> settings = {
      {"randomized response only", {none, rr, {}}},
      {"laplace noise only", {none, {}, laplace}},
      {"gaussian noise only", {none, {}, gaussian}},
      {"decoys + RR + laplace", {poisson, rr, laplace}},
  };
  const std::vector<std::vector<std::int64_t>> truths = {
      {70, 30},                            // 2 choices
      {30, 20, 15, 10, 8, 6, 5, 3, 2, 1},  // 10 choices
  };
  std::uint64_t seed = 100;
  for (const auto& truth : truths)
    for (const auto& [name, mech] : settings) {
      const auto s = simulate(truth, mech, 2500, ++seed);
      INFO(name << ", " << truth.size() << " choices: bias " << s.max_bias << ", coverage " << s.min_coverage);
      // sd of one estimate is 2-20 votes here; 2500 polls put the mean within ~0.4 of truth.
      CHECK(s.max_bias < 1.0);
      CHECK(s.min_coverage > 0.93);
      CHECK(s.min_coverage < 0.97);
    }
}

TEST_CASE("an estimator that forgets to undo randomized response is caught as biased", "[unit][statistics]") {
  // Power check: describe the mechanism without p; the bias must show.
  auto rng = random::seeded_source(77);
  const privacy::randomized_response_spec rr{0.25};
  const std::vector<std::int64_t> truth = {70, 30};
  double sum0 = 0;
  const int polls = 2500;
  for (int poll = 0; poll < polls; ++poll) {
    privacy::tally t{{0, 0}, 0};
    for (std::uint32_t j = 0; j < 2; ++j)
      for (std::int64_t v = 0; v < truth[j]; ++v) {
        ++t.ballots_per_choice[privacy::apply_randomized_response(j, 2, rr, *rng)];
        ++t.envelopes;
      }
    sum0 += privacy::estimate(t, t.ballots_per_choice, privacy::mechanism{}).choices[0].estimate;
  }
  CHECK(std::abs(sum0 / polls - truth[0]) > 1.0);
}

TEST_CASE("what the defaults cost, as docs/privacy.md states it: about ±51 votes at 1,000 voters, ±16 at 100",
          "[unit]") {
  const auto defaults = privacy::policy::defaults();
  const privacy::mechanism mech{defaults.rr.p, defaults.noise};
  // Two choices split evenly, Poisson(2) decoys: N ≈ 3n ballots, released counts N/2 each.
  const auto half_width = [&](std::int64_t n) {
    const privacy::totals t{3 * n, n};
    const auto r = privacy::estimate(t, {3 * n / 2, 3 * n / 2}, mech);
    return (r.choices[0].ci_high - r.choices[0].ci_low) / 2;
  };
  CHECK(half_width(1000) == Approx(51).margin(1));
  CHECK(half_width(100) == Approx(16.5).margin(1));
}
