// The fixed key pair the envelope fuzz target opens sealed halves with (a test key, nothing else).
#pragma once

#include "splitvote/envelope/seal.hpp"

#include <sodium.h>

#include <cstdlib>

namespace splitvote::fuzz {

inline envelope::keypair test_keypair() {
  if (sodium_init() < 0) std::abort();
  envelope::keypair k;
  for (std::size_t i = 0; i < k.sk.size(); ++i) k.sk[i] = static_cast<unsigned char>(i + 1);
  crypto_scalarmult_base(k.pk.data(), k.sk.data());
  return k;
}

}  // namespace splitvote::fuzz
