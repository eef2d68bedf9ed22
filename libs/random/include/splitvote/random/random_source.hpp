// Cryptographically secure randomness: the system CSPRNG in production, a seeded ChaCha20 stream in tests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace splitvote::random {

/// A source of uniformly random bytes with the integer helpers every sampler needs.
/// Not thread-safe: give each thread its own (system_source() is cheap).
class random_source {
public:
  using result_type = std::uint64_t;
  virtual ~random_source() = default;

  virtual void fill(std::span<std::byte> out) = 0;

  std::uint64_t next_u64();
  /// Uniform in [0, bound), exact (rejection sampling); bound must be > 0.
  std::uint64_t uniform(std::uint64_t bound);
  /// Uniform in [0, 1) with 53 random bits.
  double unit();
  /// Bernoulli(numerator / denominator), exact.
  bool bernoulli(std::uint64_t numerator, std::uint64_t denominator);

  // UniformRandomBitGenerator, so std::shuffle and friends accept it.
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() { return next_u64(); }
};

/// libsodium's randombytes (getrandom underneath).
std::unique_ptr<random_source> system_source();
/// This thread's own system_source().
random_source& thread_source();

/// Deterministic ChaCha20 keystream from a seed: for tests and simulations only.
std::unique_ptr<random_source> seeded_source(std::uint64_t seed);

using id128 = std::array<std::byte, 16>;

/// A fresh 128-bit random id.
id128 random_id(random_source& rng);

/// Canonical 8-4-4-4-12 hex form (PostgreSQL's uuid text form) of 16 bytes.
std::string to_uuid_text(std::span<const std::byte> bytes);

/// Whether `text` is in canonical lower-case 8-4-4-4-12 uuid form.
bool is_uuid_text(std::string_view text);

/// Lower-case hex of arbitrary bytes.
std::string to_hex(std::span<const std::byte> bytes);

}  // namespace splitvote::random
