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
std::vector<ballot> make_ballots(const std::vector<std::uint32_t>& choices, random::random_source& rng);

struct ballot_list {
  std::vector<ballot> ballots;
  bool cover = false;         // sent while idle: all decoys, counts as no envelope
  std::uint32_t choices = 0;  // the poll's m (0: not said)
};

/// `choices`: the poll's m, carried so the ballotbox can add decoys uniform over it.
std::string encode(const std::vector<ballot>& ballots, bool cover = false, std::uint32_t choices = 0);
/// Throws decode_error (also for an empty list or more than max_ballots).
ballot_list decode_ballot_list(const std::string& bytes);

inline constexpr std::size_t max_ballots = 1024;

/// The padding block of a poll's ballot halves (see seal.hpp `pad`): one byte more than the
/// longest list the poll can send, `ballots` ballots with choices below `choices`, so every
/// half of the poll, vote or cover, pads to this one length.
std::size_t ballot_half_block(std::size_t ballots, std::uint32_t choices);

/// At most this many choices in a ballot half (the API allows far fewer).
inline constexpr std::uint32_t max_choices = 1024;

}  // namespace splitvote::envelope
