#include "splitvote/privacy/actor_key.hpp"

#include <sodium.h>

#include <stdexcept>

namespace splitvote::privacy {
namespace {

std::array<std::byte, 32> hmac(std::string_view key, std::string_view message) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()), message.size());
  std::array<std::byte, 32> out{};
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

actor_key derive_actor_key(std::string_view server_secret, std::string_view poll_salt, std::string_view actor_id) {
  const auto poll_key = hmac(server_secret, std::string("splitvote/poll/") + std::string(poll_salt));
  return hmac(std::string_view(reinterpret_cast<const char*>(poll_key.data()), poll_key.size()), actor_id);
}

std::array<std::byte, 32> token_hash(std::string_view token) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  std::array<std::byte, 32> out{};
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(token.data()),
                     token.size());
  return out;
}

std::array<std::byte, 32> keyed_token_hash(std::string_view server_key, std::string_view context,
                                           std::string_view token) {
  const auto key = hmac(server_key, std::string("splitvote/token/") + std::string(context));
  return hmac(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), token);
}

bool equal_digest(const std::array<std::byte, 32>& a, const std::array<std::byte, 32>& b) {
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace splitvote::privacy
