// The outer envelope on the votes topic: poll id, schema version and the two opaque halves.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace splitvote::envelope {

inline constexpr std::uint32_t schema_version = 1;
inline constexpr const char* topic = "splitvote.votes";

/// How both halves of an envelope are encrypted to their consumers (see seal.hpp).
enum class sealing : std::uint8_t {
  none = 0,
  sealed_box = 1,  // crypto_box_seal: an ephemeral key pair per half
  shared_key = 2,  // envelope::sealer: one ephemeral key pair per period, a nonce per half
  // As shared_key, and each half's plaintext is padded (ISO/IEC 7816-4, sodium_pad) before
  // sealing: the ballot half to one length for every envelope of its poll, whatever its
  // number of ballots, so a half's length tells nothing about its decoys.
  shared_key_padded = 3,
};

struct envelope {
  std::string poll_id;
  std::string actor_part;   // encoded actor half (see actor_part.hpp)
  std::string ballot_list;  // encoded ballot half (see ballot_list.hpp)
  sealing sealed = sealing::none;
};

/// A message that is not a valid envelope of a schema we know: skip it, never crash.
struct decode_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string encode(const envelope& e);
/// Throws decode_error.
envelope decode(const void* data, std::size_t size);

}  // namespace splitvote::envelope
