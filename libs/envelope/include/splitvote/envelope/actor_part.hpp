// The pollbook's half of an envelope: the actor's keyed hash and a random entry id.
#pragma once

#include "splitvote/random/random_source.hpp"

#include <array>
#include <cstddef>
#include <string>

namespace splitvote::envelope {

struct actor_part {
  std::array<std::byte, 32> actor_key{};
  random::id128 entry_id{};
  bool cover = false;  // sent while idle: nobody voted
};

std::string encode(const actor_part& a);
/// Throws decode_error.
actor_part decode_actor_part(const std::string& bytes);

}  // namespace splitvote::envelope
