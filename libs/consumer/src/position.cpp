#include "splitvote/consumer/position.hpp"

#include <sodium.h>

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace splitvote::consumer {

namespace {

constexpr std::string_view label = "splitvote/consumer-positions/v1";
constexpr std::size_t min_slots = 64;

void put64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get64(std::string_view in, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

/// next, count, held..., zero slots up to the padded size.
std::string encode(const position& p) {
  const std::size_t slots = std::max(min_slots, std::bit_ceil(p.held.size()));
  std::string out;
  out.reserve(16 + 8 * slots);
  put64(out, static_cast<std::uint64_t>(p.next));
  put64(out, p.held.size());
  for (const auto h : p.held) put64(out, static_cast<std::uint64_t>(h));
  out.resize(16 + 8 * slots, '\0');
  return out;
}

position decode(std::string_view in) {
  if (in.size() < 16 || (in.size() - 16) % 8 != 0) throw std::runtime_error("stored position: malformed");
  position p;
  p.next = static_cast<std::int64_t>(get64(in, 0));
  const auto count = get64(in, 8);
  if (count > (in.size() - 16) / 8) throw std::runtime_error("stored position: malformed");
  for (std::size_t i = 0; i < count; ++i) p.held.push_back(static_cast<std::int64_t>(get64(in, 16 + 8 * i)));
  if (!std::is_sorted(p.held.begin(), p.held.end()) || (!p.held.empty() && p.held.back() >= p.next))
    throw std::runtime_error("stored position: malformed");
  return p;
}

}  // namespace

position_key derive_position_key(const std::array<unsigned char, 32>& consumer_secret_key) {
  position_key k{};
  crypto_generichash(k.data(), k.size(), reinterpret_cast<const unsigned char*>(label.data()), label.size(),
                     consumer_secret_key.data(), consumer_secret_key.size());
  return k;
}

std::string seal_position(const position& p, const std::optional<position_key>& key) {
  const std::string plain = encode(p);
  if (!key) return "P" + plain;
  std::string out(1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
  out[0] = 'S';
  auto* nonce = reinterpret_cast<unsigned char*>(out.data() + 1);
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(plain.data()),
                        plain.size(), nonce, key->data());
  return out;
}

position open_position(std::string_view stored, const std::vector<position_key>& keys) {
  if (stored.empty()) throw std::runtime_error("stored position: empty");
  if (stored[0] == 'P') return decode(stored.substr(1));
  constexpr std::size_t overhead = 1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (stored[0] != 'S' || stored.size() < overhead) throw std::runtime_error("stored position: malformed");
  const auto* nonce = reinterpret_cast<const unsigned char*>(stored.data() + 1);
  std::string plain(stored.size() - overhead, '\0');
  for (const auto& k : keys)
    if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), nonce + crypto_secretbox_NONCEBYTES,
                                   stored.size() - 1 - crypto_secretbox_NONCEBYTES, nonce, k.data()) == 0)
      return decode(plain);
  throw std::runtime_error("stored position: sealed under a key this consumer does not have");
}

}  // namespace splitvote::consumer
