// Sealed halves: each half of an envelope encrypted to its consumer's key (libsodium boxes).
#pragma once

#include "splitvote/envelope/envelope.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace splitvote::envelope {

using public_key = std::array<unsigned char, 32>;

/// 32 secret bytes that wipe themselves (sodium_memzero) when they go, copies included.
struct secret_key : std::array<unsigned char, 32> {
  secret_key() : std::array<unsigned char, 32>{} {}
  secret_key(const secret_key&) = default;
  secret_key& operator=(const secret_key&) = default;
  ~secret_key();
};

/// A consumer's key pair; the secret half never leaves the consumer's process.
struct keypair {
  public_key pk{};
  secret_key sk;
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

/// Key bytes in libsodium's guarded memory (sodium_malloc: locked in RAM so never swapped,
/// kept out of core dumps where the kernel allows, guard pages around), wiped when freed.
class guarded_key {
public:
  static constexpr std::size_t size = 32;
  guarded_key();
  unsigned char* data() { return bytes_.get(); }
  const unsigned char* data() const { return bytes_.get(); }
  void wipe();

private:
  struct release {
    void operator()(unsigned char* p) const;
  };
  std::unique_ptr<unsigned char, release> bytes_;
};

/// Seals halves to one consumer at the cost of one key exchange per period instead of two
/// per half (a sealed box makes a key pair and a shared key each time: 41% of ingest's CPU
/// under load). An ephemeral key pair serves the halves of one period (`max_uses` halves
/// or `max_age`, whichever ends first) and is then forgotten; each half gets a random
/// nonce. A half is epk (32) || nonce (24) || crypto_box_easy_afternm (16 + plaintext).
/// The shared key, which opens every half of its period, lives in guarded memory and is
/// wiped once its period is over (`forget_expired`, called on a timer), so a core dump or a
/// read of the process's memory opens at most the last `max_age` of halves.
/// Halves of one period share the ephemeral public key, so a topic thief can tell they came
/// from the same ingest process in the same period, which the Kafka record batches (producer
/// id, timestamps) tell anyway; what is inside stays as closed as a sealed box. Thread-safe.
class sealer {
public:
  using clock = std::chrono::steady_clock;

  explicit sealer(const public_key& to, std::size_t max_uses = 100000,
                  std::chrono::seconds max_age = std::chrono::seconds(10));
  sealer(const sealer&) = delete;
  sealer& operator=(const sealer&) = delete;

  std::string seal(std::string_view plaintext);
  /// Wipes the shared key if its period is over; the next half makes a new one.
  void forget_expired(clock::time_point now = clock::now());
  /// Whether a shared key is held now (for tests).
  bool holding_key();

private:
  public_key to_;
  std::size_t max_uses_;
  std::chrono::seconds max_age_;
  std::mutex mutex_;
  public_key epk_{};
  guarded_key shared_;    // crypto_box_beforenm(to, ephemeral secret)
  std::size_t uses_ = 0;  // 0: no shared key held
  clock::time_point made_{};
};

/// Opens a half from a sealer. The shared key of each (ephemeral key, consumer key) pair is
/// computed once and kept (per thread, a few hundred at most). Throws decode_error for a
/// half not for this key, altered, or too short.
std::string open_shared(std::string_view box, const keypair& mine);

/// `plaintext` padded (ISO/IEC 7816-4, libsodium's sodium_pad) to the next multiple of
/// `block` above its length: every plaintext shorter than `block` pads to exactly `block`.
std::string pad(std::string_view plaintext, std::size_t block);
/// The plaintext inside a padded half. Throws decode_error when the padding is malformed.
std::string unpad(std::string_view padded);

/// The half as the consumer needs it: a plain half as it is, a sealed half opened with the
/// first of the consumer's keys that opens it (several during a key rotation), and unpadded
/// for `shared_key_padded`. Throws decode_error for a sealed half none opens (or when it
/// has no key) or a malformed padding.
std::string readable_half(const std::string& half, sealing how, const std::vector<keypair>& mine);

}  // namespace splitvote::envelope
