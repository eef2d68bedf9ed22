// Statistical helpers for the tests that check a sampler's distribution.
#pragma once

#include <cmath>

namespace splitvote::testing {

/// Critical value of chi-squared with `dof` degrees of freedom at p = 0.001 (Wilson–Hilferty), so
/// a correct sampler fails one run in a thousand with a fixed seed: never, in practice.
inline double chi_squared_critical(int dof) {
  const double z = 3.09;
  const double k = dof;
  return k * std::pow(1 - 2 / (9 * k) + z * std::sqrt(2 / (9 * k)), 3);
}

}  // namespace splitvote::testing
