// The choices one accepted vote puts on the topic: the real one plus decoys, shuffled.
#pragma once

#include "splitvote/privacy/decoys.hpp"
#include "splitvote/random/random_source.hpp"

#include <cstdint>
#include <vector>

namespace splitvote::privacy {

/// The choice indices of the real ballot and its decoys (decoy choices uniform over
/// num_choices), in a uniformly random order: nothing in the result marks the real one.
std::vector<std::uint32_t> plan_ballots(std::uint32_t real_choice, std::uint32_t num_choices, const decoy_spec& decoys,
                                        random::random_source& rng);

}  // namespace splitvote::privacy
