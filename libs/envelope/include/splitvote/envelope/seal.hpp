// Sealed halves: each half of an envelope encrypted to its consumer's key (libsodium sealed boxes).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace splitvote::envelope {

using public_key = std::array<unsigned char, 32>;

/// A consumer's key pair; the secret half never leaves the consumer's process.
struct keypair {
  public_key pk{};
  std::array<unsigned char, 32> sk{};
};

/// A fresh key pair from the CSPRNG.
keypair generate_keypair();

/// Key files hold 64 hex digits (and an optional newline): "NAME.pub" the public key,
/// "NAME.key" the secret key. Throws std::runtime_error naming the file on any problem.
public_key load_public_key(const std::string& path);
keypair load_keypair(const std::string& secret_key_path);
/// Comma-separated secret key files (the current key first, then keys being rotated out);
/// empty: none.
std::vector<keypair> load_keypairs(const std::string& secret_key_paths);
void write_keypair(const keypair& k, const std::string& path_prefix);

/// crypto_box_seal: only the holder of the matching secret key can open it; the sender
/// cannot either (ephemeral key), and nothing in it names the sender.
std::string seal(std::string_view plaintext, const public_key& to);

/// Throws decode_error when the box was not sealed to this key or was altered.
std::string open_sealed(std::string_view box, const keypair& mine);

/// The half as the consumer needs it: a plain half as it is, a sealed half opened with the
/// first of the consumer's keys that opens it (several during a key rotation). Throws
/// decode_error for a sealed half none opens (or when it has no key).
std::string readable_half(const std::string& half, bool sealed, const std::vector<keypair>& mine);

}  // namespace splitvote::envelope
