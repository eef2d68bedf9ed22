#include "splitvote/privacy/estimate.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace splitvote::privacy {

estimate_result estimate(const tally& t, const std::vector<std::int64_t>& released,
                         const mechanism& mech) {
  const auto m = static_cast<double>(t.ballots_per_choice.size());
  if (m < 1 || released.size() != t.ballots_per_choice.size())
    throw std::invalid_argument("estimate: counts do not match the choices");
  const double p = mech.flip_probability;
  if (p < 0 || p >= 1) throw std::invalid_argument("estimate: flip probability must be in [0, 1)");

  estimate_result r;
  r.ballots = std::accumulate(t.ballots_per_choice.begin(), t.ballots_per_choice.end(),
                              std::int64_t{0});
  r.decoys = r.ballots - t.envelopes;
  const double n = static_cast<double>(t.envelopes);
  const double d = static_cast<double>(r.decoys);
  const double q = 1.0 / m;
  const double a = 1 - p + p / m;  // P(ballot says j | voter chose j)
  const double b = p / m;          // P(ballot says j | voter chose another)

  double positive_total = 0;
  for (std::size_t j = 0; j < released.size(); ++j) {
    choice_estimate c;
    c.estimate = (static_cast<double>(released[j]) - d * q - p * n / m) / (1 - p);
    const double nj = std::clamp(c.estimate, 0.0, n);
    const double v_rr = nj * a * (1 - a) + (n - nj) * b * (1 - b);
    const double var = (d * q * (1 - q) + v_rr + mech.noise_variance) / ((1 - p) * (1 - p));
    c.std_error = std::sqrt(std::max(var, 0.0));
    c.ci_low = c.estimate - 1.96 * c.std_error;
    c.ci_high = c.estimate + 1.96 * c.std_error;
    positive_total += std::max(c.estimate, 0.0);
    r.choices.push_back(c);
  }
  for (auto& c : r.choices)
    c.share = positive_total > 0 ? std::max(c.estimate, 0.0) / positive_total : 0.0;
  return r;
}

}  // namespace splitvote::privacy
