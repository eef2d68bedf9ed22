#include "splitvote/privacy/estimate.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace splitvote::privacy {

namespace {

/// The release noise's pmf on [-reach, reach], tabulated once per estimate.
struct noise_table {
  explicit noise_table(const release_noise_spec& noise) {
    if (noise.mechanism == noise_mechanism::none) return;
    sd = std::sqrt(noise.variance());
    reach = static_cast<std::int64_t>(std::ceil(12 * sd)) + 2;
    pmf.reserve(2 * reach + 1);
    for (std::int64_t z = -reach; z <= reach; ++z) pmf.push_back(noise_probability(noise, z));
  }
  double sd = 0;
  std::int64_t reach = 0;
  std::vector<double> pmf;  // pmf[z + reach]
};

/// P(|N + Z| <= w) for N ~ Normal(0, s²) and Z the release noise.
double coverage(double w, double s, const noise_table& noise) {
  double total = 0;
  for (std::int64_t z = -noise.reach; z <= noise.reach; ++z) {
    const double pz = noise.pmf[static_cast<std::size_t>(z + noise.reach)];
    if (s == 0)
      total += std::abs(static_cast<double>(z)) <= w ? pz : 0;
    else
      total += pz * 0.5 * (std::erf((w - z) / (s * std::sqrt(2.0))) - std::erf((-w - z) / (s * std::sqrt(2.0))));
  }
  return total;
}

/// The smallest w with P(|N + Z| <= w) >= 0.95, to a hundredth of a vote (bisection).
double half_width(double s, const noise_table& noise) {
  if (noise.pmf.empty()) return 1.96 * s;
  double lo = 0, hi = 1.96 * s + 10 * noise.sd + 1;
  while (hi - lo > 0.01) {
    const double mid = (lo + hi) / 2;
    (coverage(mid, s, noise) >= 0.95 ? hi : lo) = mid;
  }
  return hi;
}

}  // namespace

totals totals_of(const tally& t) {
  return {std::accumulate(t.ballots_per_choice.begin(), t.ballots_per_choice.end(), std::int64_t{0}), t.envelopes};
}

estimate_result estimate(const tally& t, const std::vector<std::int64_t>& released, const mechanism& mech) {
  if (released.size() != t.ballots_per_choice.size())
    throw std::invalid_argument("estimate: counts do not match the choices");
  return estimate(totals_of(t), released, mech);
}

estimate_result estimate(const totals& t, const std::vector<std::int64_t>& released, const mechanism& mech) {
  const auto m = static_cast<double>(released.size());
  if (m < 1) throw std::invalid_argument("estimate: counts do not match the choices");
  const double p = mech.flip_probability;
  if (p < 0 || p >= 1) throw std::invalid_argument("estimate: flip probability must be in [0, 1)");

  estimate_result r;
  r.ballots = t.ballots;
  r.decoys = r.ballots - t.envelopes;
  const double n = static_cast<double>(t.envelopes);
  const double d = static_cast<double>(r.decoys);
  const double q = 1.0 / m;
  const double a = 1 - p + p / m;  // P(ballot says j | voter chose j)
  const double b = p / m;          // P(ballot says j | voter chose another)
  const double noise_variance = mech.noise.variance();
  const noise_table noise(mech.noise);

  double positive_total = 0;
  for (std::size_t j = 0; j < released.size(); ++j) {
    choice_estimate c;
    c.estimate = (static_cast<double>(released[j]) - d * q - p * n / m) / (1 - p);
    const double nj = std::clamp(c.estimate, 0.0, n);
    const double v_rr = nj * a * (1 - a) + (n - nj) * b * (1 - b);
    const double other = std::max(d * q * (1 - q) + v_rr, 0.0);  // decoys and randomized response
    const double var = (other + noise_variance) / ((1 - p) * (1 - p));
    c.std_error = std::sqrt(std::max(var, 0.0));
    const double w = half_width(std::sqrt(other), noise) / (1 - p);
    c.ci_low = c.estimate - w;
    c.ci_high = c.estimate + w;
    positive_total += std::max(c.estimate, 0.0);
    r.choices.push_back(c);
  }
  for (auto& c : r.choices) c.share = positive_total > 0 ? std::max(c.estimate, 0.0) / positive_total : 0.0;
  return r;
}

}  // namespace splitvote::privacy
