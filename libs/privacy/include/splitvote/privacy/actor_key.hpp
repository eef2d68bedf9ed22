// Actor ids as keyed hashes (HMAC-SHA-256 under a server secret and the poll id), never stored plain.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace splitvote::privacy {

using actor_key = std::array<std::byte, 32>;

/// HMAC-SHA-256(key = HMAC-SHA-256(server_secret, "splitvote/poll/" + poll_salt), actor_id).
/// `poll_salt` is the poll's own random key (hex), destroyed some time after the poll
/// closes (crypto-shredding): from then on nobody, the server included, can tell whose
/// keys the pollbook holds. Polls created before poll keys existed use their id.
actor_key derive_actor_key(std::string_view server_secret, std::string_view poll_salt,
                           std::string_view actor_id);

/// SHA-256 of a token, for storing admin tokens only as hashes.
std::array<std::byte, 32> token_hash(std::string_view token);

/// Constant-time comparison.
bool equal_digest(const std::array<std::byte, 32>& a, const std::array<std::byte, 32>& b);

}  // namespace splitvote::privacy
