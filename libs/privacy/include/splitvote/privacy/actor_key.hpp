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
actor_key derive_actor_key(std::string_view server_secret, std::string_view poll_salt, std::string_view actor_id);

/// SHA-256 of a token: how admin tokens of polls created before keyed token hashes were stored.
std::array<std::byte, 32> token_hash(std::string_view token);

/// HMAC-SHA-256(key = HMAC-SHA-256(server_key, "splitvote/token/" + context), token): a token
/// stored this way cannot be checked by whoever holds only the database, and a hash copied
/// to another poll (another `context`, e.g. "admin/<poll id>") matches nothing there.
std::array<std::byte, 32> keyed_token_hash(std::string_view server_key, std::string_view context,
                                           std::string_view token);

/// Constant-time comparison.
bool equal_digest(const std::array<std::byte, 32>& a, const std::array<std::byte, 32>& b);

}  // namespace splitvote::privacy
