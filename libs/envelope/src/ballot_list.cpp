#include "splitvote/envelope/ballot_list.hpp"

#include "splitvote/envelope/envelope.hpp"
#include "splitvote/v1/ballots.pb.h"

#include <cstring>
#include <map>
#include <utility>

namespace splitvote::envelope {

std::vector<ballot> make_ballots(const std::vector<std::uint32_t>& choices, random::random_source& rng) {
  std::vector<ballot> out;
  out.reserve(choices.size());
  for (std::uint32_t c : choices) out.push_back(ballot{random::random_id(rng), c});
  return out;
}

std::string encode(const std::vector<ballot>& ballots, bool cover, std::uint32_t choices) {
  v1::BallotList m;
  m.set_kind(cover ? 2 : 1);
  m.set_choices(choices);
  for (const auto& b : ballots) {
    auto* pb = m.add_ballots();
    pb->set_random_id(b.random_id.data(), b.random_id.size());
    pb->set_choice(b.choice);
  }
  return m.SerializeAsString();
}

std::size_t ballot_half_block(std::size_t ballots, std::uint32_t choices) {
  // Asked once per envelope on the vote path: each thread remembers what it worked out (a
  // poll's settings give a handful of distinct pairs).
  thread_local std::map<std::pair<std::size_t, std::uint32_t>, std::size_t> known;
  if (const auto it = known.find({ballots, choices}); it != known.end()) return it->second;
  // The longest encoding: the largest choice index in every ballot (varints grow with it).
  const std::vector<ballot> longest(ballots, ballot{{}, choices > 0 ? choices - 1 : 0});
  const std::size_t block = encode(longest, true, choices).size() + 1;
  if (known.size() < 4096) known.emplace(std::pair{ballots, choices}, block);
  return block;
}

ballot_list decode_ballot_list(const std::string& bytes) {
  v1::BallotList m;
  if (!m.ParseFromString(bytes)) throw decode_error("not a protobuf ballot list");
  if (m.ballots_size() == 0) throw decode_error("empty ballot list");
  if (static_cast<std::size_t>(m.ballots_size()) > max_ballots) throw decode_error("too many ballots");
  ballot_list out;
  out.cover = m.kind() == 2;
  if (m.choices() > max_choices) throw decode_error("too many choices");
  out.choices = m.choices();
  out.ballots.reserve(m.ballots_size());
  for (const auto& pb : m.ballots()) {
    ballot b;
    if (pb.random_id().size() != b.random_id.size()) throw decode_error("ballot id is not 16 bytes");
    std::memcpy(b.random_id.data(), pb.random_id().data(), b.random_id.size());
    b.choice = pb.choice();
    out.ballots.push_back(b);
  }
  return out;
}

}  // namespace splitvote::envelope
