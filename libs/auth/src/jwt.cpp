#include "splitvote/auth/jwt.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

namespace splitvote::auth {
namespace {

template <auto free_fn>
struct openssl_free {
  template <class T>
  void operator()(T* p) const {
    free_fn(p);
  }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_free<EVP_PKEY_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, openssl_free<EVP_PKEY_CTX_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, openssl_free<EVP_MD_CTX_free>>;
using bn_ptr = std::unique_ptr<BIGNUM, openssl_free<BN_free>>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, openssl_free<OSSL_PARAM_BLD_free>>;
using param_ptr = std::unique_ptr<OSSL_PARAM, openssl_free<OSSL_PARAM_free>>;

constexpr std::size_t min_hs256_secret = 32;
constexpr int min_rsa_bits = 2048;
constexpr std::size_t max_actor_bytes = 256;

/// A failed OpenSSL call leaves entries in this thread's error queue; TLS code on the same
/// thread reads that queue (SSL_get_error), so nothing we caused may stay there.
struct error_queue_guard {
  ~error_queue_guard() { ERR_clear_error(); }
};

/// Strict base64url: the URL-safe alphabet, no padding, no whitespace, zero trailing bits.
std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &len, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return std::nullopt;
  out.resize(len);
  return out;
}

std::optional<boost::json::object> parse_object(std::string_view text) {
  boost::json::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

const boost::json::string* string_member(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v ? v->if_string() : nullptr;
}

std::optional<double> number(const boost::json::value& v) {
  double d = 0;
  if (v.is_int64())
    d = static_cast<double>(v.get_int64());
  else if (v.is_uint64())
    d = static_cast<double>(v.get_uint64());
  else if (v.is_double())
    d = v.get_double();
  else
    return std::nullopt;
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

/// Text from a token or the JWKS, fit for an error detail: printable ASCII, at most 64 bytes.
std::string quoted(std::string_view untrusted) {
  std::string out = "\"";
  for (char c : untrusted.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (untrusted.size() > 64) out += "...";
  return out + "\"";
}

bn_ptr big_number(std::string_view base64url, const std::string& where) {
  const auto bytes = base64url_decode(base64url);
  if (!bytes || bytes->empty()) throw std::invalid_argument(where + " is not base64url");
  bn_ptr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes->data()), static_cast<int>(bytes->size()), nullptr));
  if (!bn) throw std::runtime_error("BN_bin2bn failed");
  return bn;
}

/// The RSA public key of a JWK's n and e, checked by OpenSSL and at least min_rsa_bits long.
pkey_ptr rsa_public_key(std::string_view n_text, std::string_view e_text, const std::string& name) {
  error_queue_guard guard;
  const auto n = big_number(n_text, name + " n");
  const auto e = big_number(e_text, name + " e");
  param_bld_ptr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
    throw std::runtime_error("OSSL_PARAM_BLD failed");
  param_ptr params(OSSL_PARAM_BLD_to_param(bld.get()));
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1)
    throw std::runtime_error("EVP_PKEY_fromdata_init failed");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    throw std::invalid_argument(name + " is not an RSA public key");
  pkey_ptr key(raw);
  if (const int bits = EVP_PKEY_get_bits(key.get()); bits < min_rsa_bits)
    throw std::invalid_argument(name + " has " + std::to_string(bits) + " bits; at least " +
                                std::to_string(min_rsa_bits) + " are required");
  pkey_ctx_ptr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1)
    throw std::invalid_argument(name + " fails OpenSSL's public key check");
  return key;
}

bool rs256_verifies(EVP_PKEY* key, std::string_view signing_input, std::string_view signature) {
  error_queue_guard guard;
  // PKCS#1 v1.5 signatures are exactly as long as the modulus; refuse any other length here.
  if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key))) return false;
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx) throw std::runtime_error("EVP_MD_CTX_new failed");
  if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) != 1)
    throw std::runtime_error("EVP_DigestVerifyInit_ex failed");
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

bool hs256_verifies(std::string_view secret, std::string_view signing_input, std::string_view signature) {
  error_queue_guard guard;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_len))
    throw std::runtime_error("HMAC failed");
  return signature.size() == mac_len && CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
}

[[noreturn]] void reject(const char* reason, const std::string& detail) { throw jwt_rejection(reason, detail); }

}  // namespace

jwt_rejection::jwt_rejection(std::string r, const std::string& detail)
    : std::runtime_error("token refused (" + r + "): " + detail), reason(std::move(r)) {}

struct jwt_verifier::key_set {
  struct rsa_key {
    std::optional<std::string> kid;
    pkey_ptr key;
  };
  bool rs256 = false;
  bool hs256 = false;
  std::vector<rsa_key> rsa;  // the usable ones only

  /// The JWKS's usable keys; throws std::invalid_argument for an empty or refused document, or
  /// one with no usable key.
  static std::vector<rsa_key> usable(std::string_view jwks_json) {
    if (jwks_json.empty()) throw std::invalid_argument("jwt: RS256 needs a JWKS and none is configured");
    key_set keys;
    keys.read_jwks(jwks_json);
    if (keys.rsa.empty()) throw std::invalid_argument("jwt: RS256 is configured but the JWKS has no usable RSA key");
    return std::move(keys.rsa);
  }

  /// The usable keys' kids and public parameters: equal for two JWKS that verify alike.
  std::string fingerprint() const {
    std::string out;
    for (const auto& k : rsa) {
      out += k.kid.value_or("") + '\n';
      unsigned char* der = nullptr;
      const int n = i2d_PUBKEY(k.key.get(), &der);
      if (n > 0) out.append(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
      OPENSSL_free(der);
      out += '\n';
    }
    return out;
  }

  /// The JWKS keys an RS256 token may be checked with; the rest are never kept.
  void read_jwks(std::string_view jwks_json) {
    const auto doc = parse_object(jwks_json);
    const auto* keys = doc ? doc->if_contains("keys") : nullptr;
    if (!keys || !keys->is_array()) throw std::invalid_argument("jwks_json is not a JSON object with a \"keys\" array");
    std::set<std::string> kids;
    std::size_t index = 0;
    for (const auto& entry : keys->get_array()) {
      const std::string name = "JWKS key " + std::to_string(index++);
      const auto* jwk = entry.if_object();
      if (!jwk) throw std::invalid_argument(name + " is not a JSON object");
      const auto* kty = string_member(*jwk, "kty");
      if (!kty) throw std::invalid_argument(name + " has no string kty");
      if (*kty != "RSA") continue;
      if (const auto* use = jwk->if_contains("use"); use && !(use->is_string() && use->get_string() == "sig")) continue;
      if (const auto* alg = jwk->if_contains("alg"); alg && !(alg->is_string() && alg->get_string() == "RS256"))
        continue;
      std::optional<std::string> kid;
      if (const auto* k = jwk->if_contains("kid")) {
        if (!k->is_string()) throw std::invalid_argument(name + " has a kid that is not a string");
        kid = std::string(k->get_string());
        if (!kids.insert(*kid).second) throw std::invalid_argument("JWKS has two usable keys with kid " + quoted(*kid));
      }
      const auto* n = string_member(*jwk, "n");
      const auto* e = string_member(*jwk, "e");
      const std::string label = kid ? name + " (kid " + quoted(*kid) + ")" : name;
      if (!n || !e) throw std::invalid_argument(label + " lacks the string n or e");
      rsa.push_back({kid, rsa_public_key(*n, *e, label)});
    }
  }

  EVP_PKEY* rsa_for(const boost::json::object& header) const {
    const auto* kid = header.if_contains("kid");
    if (!kid) {
      if (rsa.size() != 1)
        reject("key", "the token names no kid and the JWKS has " + std::to_string(rsa.size()) + " usable keys");
      return rsa.front().key.get();
    }
    if (!kid->is_string()) reject("malformed", "kid is not a string");
    const auto& wanted = kid->get_string();
    const auto it = std::find_if(rsa.begin(), rsa.end(), [&](const rsa_key& k) { return k.kid == wanted; });
    if (it == rsa.end()) reject("key", "no usable JWKS key has kid " + quoted(wanted));
    return it->key.get();
  }
};

jwt_verifier::jwt_verifier(jwt_settings s) : settings_(std::move(s)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  auto keys = std::make_shared<key_set>();
  if (settings_.algorithms.empty()) throw std::invalid_argument("jwt: no algorithms configured");
  for (const auto& alg : settings_.algorithms) {
    if (alg == "RS256")
      keys->rs256 = true;
    else if (alg == "HS256")
      keys->hs256 = true;
    else if (const std::string_view none = "none"; std::equal(alg.begin(), alg.end(), none.begin(), none.end(),
                                                              [](char a, char b) { return (a | 0x20) == b; }))
      throw std::invalid_argument("jwt: algorithm \"none\" is never accepted");
    else
      throw std::invalid_argument("jwt: unknown algorithm " + quoted(alg) + " (only RS256, HS256)");
  }
  if (keys->hs256 && settings_.hs256_secret.size() < min_hs256_secret)
    throw std::invalid_argument("jwt: HS256 needs a secret of at least " + std::to_string(min_hs256_secret) +
                                " bytes, got " + std::to_string(settings_.hs256_secret.size()));
  if (keys->rs256) keys->rsa = key_set::usable(settings_.jwks_json);
  if (settings_.issuer.empty()) throw std::invalid_argument("jwt: issuer is empty");
  if (settings_.audience.empty()) throw std::invalid_argument("jwt: audience is empty");
  if (settings_.actor_claim.empty()) throw std::invalid_argument("jwt: actor_claim is empty");
  if (settings_.leeway.count() < 0) throw std::invalid_argument("jwt: leeway is negative");
  if (settings_.max_token_bytes == 0) throw std::invalid_argument("jwt: max_token_bytes is 0");
  keys_.store(std::move(keys));
}

bool jwt_verifier::replace_jwks(std::string_view jwks_json) {
  const auto current = keys_.load();
  if (!current->rs256) throw std::invalid_argument("jwt: RS256 is not configured: there is no JWKS to replace");
  auto next = std::make_shared<key_set>();
  next->rs256 = current->rs256;
  next->hs256 = current->hs256;
  next->rsa = key_set::usable(jwks_json);  // throws: the current keys stay
  const bool changed = next->fingerprint() != current->fingerprint();
  keys_.store(std::move(next));
  return changed;
}

const jwt_settings& jwt_verifier::settings() const { return settings_; }

std::string jwt_verifier::verify(std::string_view token, std::chrono::system_clock::time_point now) const {
  if (token.size() > settings_.max_token_bytes)
    reject("oversize",
           std::to_string(token.size()) + " bytes, at most " + std::to_string(settings_.max_token_bytes) + " accepted");

  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    reject("malformed", "not three dot-separated parts");
  const auto signing_input = token.substr(0, dot2);
  const auto header_text = base64url_decode(token.substr(0, dot1));
  const auto payload_text = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  const auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature) reject("malformed", "a part is not strict base64url");

  const auto header = parse_object(*header_text);
  if (!header) reject("malformed", "the header is not a JSON object");
  const auto* alg = string_member(*header, "alg");
  if (!alg) reject("malformed", "the header has no string alg");
  const auto keys = keys_.load();  // one key set for the whole check, whatever replace_jwks does meanwhile
  const bool rs256 = *alg == "RS256" && keys->rs256;
  const bool hs256 = *alg == "HS256" && keys->hs256;
  if (!rs256 && !hs256) reject("algorithm", "alg " + quoted(*alg) + " is not configured");
  if (header->contains("crit")) reject("malformed", "the header has crit, and no extension is understood");

  // The key follows from the configured algorithm alone: HS256 is only ever keyed with the
  // configured secret, never with JWKS material, and nothing in the header points elsewhere.
  const bool valid = rs256 ? rs256_verifies(keys->rsa_for(*header), signing_input, *signature)
                           : hs256_verifies(settings_.hs256_secret, signing_input, *signature);
  if (!valid) reject("signature", std::string(*alg) + " signature does not verify");

  const auto claims = parse_object(*payload_text);
  if (!claims) reject("malformed", "the payload is not a JSON object");

  const auto* exp_value = claims->if_contains("exp");
  const auto exp = exp_value ? number(*exp_value) : std::nullopt;
  if (!exp) reject("malformed", "exp is missing or not a number");
  const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double leeway = static_cast<double>(settings_.leeway.count());
  if (now_s >= *exp + leeway) reject("expired", "exp is past, beyond the leeway");
  if (const auto* nbf_value = claims->if_contains("nbf")) {
    const auto nbf = number(*nbf_value);
    if (!nbf) reject("malformed", "nbf is not a number");
    if (now_s + leeway < *nbf) reject("not-yet-valid", "nbf is ahead, beyond the leeway");
  }

  const auto* iss = string_member(*claims, "iss");
  if (!iss || *iss != settings_.issuer) reject("issuer", "iss is missing or not the configured issuer");

  const auto* aud = claims->if_contains("aud");
  const auto is_ours = [&](const boost::json::value& v) {
    return v.is_string() && v.get_string() == settings_.audience;
  };
  const bool audience_ok =
      aud &&
      (is_ours(*aud) || (aud->is_array() && std::any_of(aud->get_array().begin(), aud->get_array().end(), is_ours)));
  if (!audience_ok) reject("audience", "aud is missing or does not name the configured audience");

  const auto* actor = string_member(*claims, settings_.actor_claim);
  if (!actor || actor->empty() || actor->size() > max_actor_bytes)
    reject("actor-claim", "claim " + quoted(settings_.actor_claim) + " is not a string of 1 to " +
                              std::to_string(max_actor_bytes) + " bytes");
  return std::string(*actor);
}

}  // namespace splitvote::auth
