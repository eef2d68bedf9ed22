// Verifying bearer tokens (JWS compact JWTs, RS256 or HS256) and reading the actor id they name.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

/// Written on OpenSSL 3 EVP, Boost.JSON and libsodium's strict base64url rather than Debian's
/// libjwt 1.10: that version takes the algorithm from the token itself (the door to "alg":"none"
/// and to HS256 keyed with an RSA public key) and cannot read a JWKS. Here the accepted
/// algorithms are pinned by configuration and the key is chosen by them alone.
namespace splitvote::auth {

struct jwt_settings {
  std::vector<std::string> algorithms;  // accepted algorithms, pinned by configuration: "RS256" and/or "HS256"
  std::string jwks_json;     // the JWKS document text (RS256 keys: kty RSA, n, e, optional kid, optional use/alg)
  std::string hs256_secret;  // HS256 key bytes (at least 32 bytes)
  std::string issuer;        // required `iss` (must be non-empty)
  std::string audience;      // required `aud` value (must be non-empty; `aud` in the token may be a string or an array)
  std::string actor_claim = "sub";  // the claim holding the actor id
  std::chrono::seconds leeway{60};  // clock skew allowed for exp / nbf
  std::size_t max_token_bytes = 8192;
};

/// Why a token was refused: `reason` is a short code fit for a metric label.
struct jwt_rejection : std::runtime_error {
  jwt_rejection(std::string reason, const std::string& detail);
  std::string reason;  // "oversize", "malformed", "algorithm", "key", "signature", "expired", "not-yet-valid",
                       // "issuer", "audience", "actor-claim"
};

/// One verifier may serve every thread at once; replace_jwks may run beside them (each
/// verify() uses one key set from start to end).
class jwt_verifier {
public:
  /// Throws std::invalid_argument naming the problem: no algorithms, an unknown one (only RS256, HS256), "none",
  /// RS256 without any usable RSA key in the JWKS, HS256 with a secret shorter than 32 bytes, empty
  /// issuer/audience/actor_claim. The JWKS is read here, once, when RS256 is configured: keys of another kty are
  /// skipped, as are RSA keys whose `use` is not "sig" or whose `alg` is not RS256 (they are never used); an RSA key
  /// under 2048 bits, one without n or e, and two keys with the same kid are refused.
  explicit jwt_verifier(jwt_settings s);

  /// The actor id the token names (the actor claim: non-empty string, at most 256 bytes). Throws jwt_rejection.
  /// An RS256 token with a kid is checked with the JWKS key of that kid; one without a kid only when the JWKS has
  /// exactly one usable key. Header fields other than alg, kid and crit (jku, jwk, x5u, x5c, typ) are ignored.
  std::string verify(std::string_view token, std::chrono::system_clock::time_point now) const;

  /// Replaces the RS256 keys with those of a new JWKS document (the identity provider rotated
  /// its keys), read by the constructor's rules; true if the usable keys changed. Throws
  /// std::invalid_argument when the document is refused or RS256 is not configured: then the
  /// keys in use stay. (settings().jwks_json keeps the document read at construction.)
  bool replace_jwks(std::string_view jwks_json);

  const jwt_settings& settings() const;

private:
  struct key_set;
  jwt_settings settings_;
  std::atomic<std::shared_ptr<const key_set>> keys_;
};

}  // namespace splitvote::auth
