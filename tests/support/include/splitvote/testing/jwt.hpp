// Minting JWTs for tests: RSA key pairs and their JWKs, RS256 / HS256 signatures, forged tokens.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct evp_pkey_st;

namespace splitvote::testing {

/// An RSA key pair made with EVP_RSA_gen: 2048 bits unless told otherwise (small keys are for
/// tests that the verifier refuses them).
class rsa_key {
public:
  rsa_key();
  explicit rsa_key(unsigned bits);

  /// Public JWK object text {"kty":"RSA","kid":..,"use":"sig","alg":"RS256","n":..,"e":..}.
  std::string jwk(const std::string& kid) const;
  /// SubjectPublicKeyInfo PEM (for the HS-with-public-key attack).
  std::string public_pem() const;
  /// Raw RS256 (PKCS#1 v1.5, SHA-256) signature bytes.
  std::string sign_rs256(std::string_view signing_input) const;

private:
  struct pkey_free {
    void operator()(evp_pkey_st* p) const;
  };
  std::unique_ptr<evp_pkey_st, pkey_free> key_;
};

/// {"keys":[...]} of the given JWK object texts.
std::string jwks(const std::vector<std::string>& jwk_objects);

/// Base64url without padding.
std::string base64url(std::string_view bytes);

/// Raw HMAC-SHA-256 bytes.
std::string hs256(std::string_view key, std::string_view signing_input);

/// header and claims as JSON text; signs with RS256 (key) or HS256 (secret) according to alg in header, or
/// leaves the signature empty for alg none (and for any other alg, or a header that is not a JSON object,
/// so that broken tokens can be made too).
std::string make_jwt(std::string_view header_json, std::string_view claims_json, const rsa_key* key,
                     std::string_view hs_secret = {});

}  // namespace splitvote::testing
