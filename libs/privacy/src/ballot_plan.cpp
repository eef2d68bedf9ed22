#include "splitvote/privacy/ballot_plan.hpp"

#include <algorithm>
#include <stdexcept>

namespace splitvote::privacy {

std::vector<std::uint32_t> plan_ballots(std::uint32_t real_choice, std::uint32_t num_choices, const decoy_spec& decoys,
                                        random::random_source& rng) {
  if (num_choices == 0 || real_choice >= num_choices) throw std::invalid_argument("plan_ballots: choice out of range");
  const std::uint32_t k = draw_decoy_count(decoys, rng);
  std::vector<std::uint32_t> choices;
  choices.reserve(k + 1);
  choices.push_back(real_choice);
  for (std::uint32_t i = 0; i < k; ++i) choices.push_back(static_cast<std::uint32_t>(rng.uniform(num_choices)));
  std::shuffle(choices.begin(), choices.end(), rng);
  return choices;
}

}  // namespace splitvote::privacy
