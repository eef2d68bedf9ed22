#include "splitvote/privacy/policy.hpp"

#include <cmath>
#include <stdexcept>

namespace splitvote::privacy {

policy policy::defaults() {
  policy p;
  p.decoys = default_decoys();
  p.rr.p = 0.1;
  p.noise = {noise_mechanism::discrete_laplace, 1.0, 0};
  p.budget = 10 * p.release_cost();
  return p;
}

void policy::validate() const {
  decoys.validate();
  rr.validate();
  noise.validate();
  if (noise.mechanism == noise_mechanism::none) return;
  if (!(budget >= release_cost()))
    throw std::invalid_argument("release_noise.budget must allow at least one release (" +
                                std::to_string(release_cost()) + ")");
  if (budget > 1000) throw std::invalid_argument("release_noise.budget must be at most 1000");
}

double policy::release_cost() const {
  switch (noise.mechanism) {
    case noise_mechanism::none:
      return 0;
    case noise_mechanism::discrete_laplace:
      return 2 * noise.epsilon;
    case noise_mechanism::discrete_gaussian:
      return std::sqrt(2.0) * noise.epsilon;
  }
  return 0;
}

}  // namespace splitvote::privacy
