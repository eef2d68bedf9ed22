// A store's place in the topic, sealed under the consumer's own key so a database thief cannot line it up.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace splitvote::consumer {

/// Where a partition stands: every offset below `next` is written, except `held` (offsets
/// that mixing holds back, ascending). A restart reads from the first held offset and skips
/// what was written, so nothing already stored is read again.
struct position {
  std::int64_t next = 0;
  std::vector<std::int64_t> held;

  /// Where reading resumes: the first offset not yet written.
  std::int64_t start() const { return held.empty() ? next : held.front(); }
  bool operator==(const position&) const = default;
};

using position_key = std::array<unsigned char, 32>;

/// The key that seals positions, derived from the consumer's secret key (BLAKE2b keyed with
/// it over a fixed label): a thief of the database alone cannot open them.
position_key derive_position_key(const std::array<unsigned char, 32>& consumer_secret_key);

/// The bytes to store. With a key: "S" || nonce || crypto_secretbox of the position, padded
/// so the length tells only the power of two above the number of held offsets (at least 64).
/// Without one (a consumer configured without a key, plain envelopes): "P" || the same
/// padded plaintext, and a warning at start-up says so.
std::string seal_position(const position& p, const std::optional<position_key>& key);

/// Opens what seal_position made with any of `keys` (several during a key rotation).
/// Throws std::runtime_error for bytes that no key opens or that are malformed.
position open_position(std::string_view stored, const std::vector<position_key>& keys);

}  // namespace splitvote::consumer
