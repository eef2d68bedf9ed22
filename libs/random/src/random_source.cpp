#include "splitvote/random/random_source.hpp"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace splitvote::random {
namespace {

void ensure_sodium() {
  static const int init = sodium_init();
  if (init < 0) throw std::runtime_error("libsodium failed to initialise");
}

class system_random final : public random_source {
public:
  system_random() { ensure_sodium(); }
  void fill(std::span<std::byte> out) override { randombytes_buf(out.data(), out.size()); }
};

class chacha_random final : public random_source {
public:
  explicit chacha_random(std::uint64_t seed) {
    ensure_sodium();
    key_.fill(0);
    std::memcpy(key_.data(), &seed, sizeof seed);
  }

  void fill(std::span<std::byte> out) override {
    std::size_t done = 0;
    while (done < out.size()) {
      if (pos_ == buffer_.size()) refill();
      const std::size_t n = std::min(out.size() - done, buffer_.size() - pos_);
      std::memcpy(out.data() + done, buffer_.data() + pos_, n);
      pos_ += n;
      done += n;
    }
  }

private:
  void refill() {
    std::array<unsigned char, crypto_stream_chacha20_NONCEBYTES> nonce{};
    std::memcpy(nonce.data(), &block_, sizeof block_);
    ++block_;
    crypto_stream_chacha20(buffer_.data(), buffer_.size(), nonce.data(), key_.data());
    pos_ = 0;
  }

  std::array<unsigned char, crypto_stream_chacha20_KEYBYTES> key_{};
  std::array<unsigned char, 4096> buffer_{};
  std::size_t pos_ = buffer_.size();
  std::uint64_t block_ = 0;
};

}  // namespace

std::uint64_t random_source::next_u64() {
  std::uint64_t v = 0;
  fill(std::as_writable_bytes(std::span{&v, 1}));
  return v;
}

std::uint64_t random_source::uniform(std::uint64_t bound) {
  if (bound == 0) throw std::invalid_argument("uniform: bound must be positive");
  // Reject the top partial range so every residue is equally likely.
  const std::uint64_t limit = max() - (max() % bound + 1) % bound;
  for (;;) {
    const std::uint64_t v = next_u64();
    if (v <= limit) return v % bound;
  }
}

double random_source::unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

bool random_source::bernoulli(std::uint64_t numerator, std::uint64_t denominator) {
  return uniform(denominator) < numerator;
}

std::unique_ptr<random_source> system_source() { return std::make_unique<system_random>(); }

random_source& thread_source() {
  thread_local system_random source;
  return source;
}

std::unique_ptr<random_source> seeded_source(std::uint64_t seed) { return std::make_unique<chacha_random>(seed); }

id128 random_id(random_source& rng) {
  id128 id{};
  rng.fill(id);
  return id;
}

std::string to_hex(std::span<const std::byte> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    const auto v = std::to_integer<unsigned>(b);
    out.push_back(digits[v >> 4]);
    out.push_back(digits[v & 0xf]);
  }
  return out;
}

bool is_uuid_text(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool dash_place = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_place ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string to_uuid_text(std::span<const std::byte> bytes) {
  if (bytes.size() != 16) throw std::invalid_argument("a uuid is 16 bytes");
  std::string hex = to_hex(bytes);
  for (std::size_t at : {20u, 16u, 12u, 8u}) hex.insert(at, 1, '-');
  return hex;
}

}  // namespace splitvote::random
