// The outer envelope on the votes topic: poll id, schema version and the two opaque halves.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace splitvote::envelope {

inline constexpr std::uint32_t schema_version = 1;
inline constexpr const char* topic = "splitvote.votes";

struct envelope {
  std::string poll_id;
  std::string actor_part;   // encoded actor half (see actor_part.hpp)
  std::string ballot_list;  // encoded ballot half (see ballot_list.hpp)
  bool sealed = false;      // both halves are sealed boxes (see seal.hpp)
};

/// A message that is not a valid envelope of a schema we know: skip it, never crash.
struct decode_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string encode(const envelope& e);
/// Throws decode_error.
envelope decode(const void* data, std::size_t size);

}  // namespace splitvote::envelope
