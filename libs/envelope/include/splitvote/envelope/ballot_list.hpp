// The ballotbox's half of an envelope: ballots with fresh random ids, in the order given.
#pragma once

#include "splitvote/random/random_source.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace splitvote::envelope {

struct ballot {
  random::id128 random_id{};
  std::uint32_t choice = 0;
};

/// One ballot per planned choice, each with a fresh random id from rng.
std::vector<ballot> make_ballots(const std::vector<std::uint32_t>& choices,
                                 random::random_source& rng);

std::string encode(const std::vector<ballot>& ballots);
/// Throws decode_error (also for an empty list or more than max_ballots).
std::vector<ballot> decode_ballot_list(const std::string& bytes);

inline constexpr std::size_t max_ballots = 1024;

}  // namespace splitvote::envelope
