#include "splitvote/testing/jwt.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include <stdexcept>

namespace splitvote::testing {
namespace {

struct bn_free {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct bio_free {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + " failed");
}

std::string bn_param(const EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  check(EVP_PKEY_get_bn_param(key, name, &raw) == 1, "EVP_PKEY_get_bn_param");
  const std::unique_ptr<BIGNUM, bn_free> bn(raw);
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()));
  return bytes;
}

}  // namespace

void rsa_key::pkey_free::operator()(evp_pkey_st* p) const { EVP_PKEY_free(p); }

rsa_key::rsa_key() : rsa_key(2048) {}

rsa_key::rsa_key(unsigned bits) : key_(EVP_RSA_gen(bits)) { check(key_ != nullptr, "EVP_RSA_gen"); }

std::string rsa_key::jwk(const std::string& kid) const {
  const boost::json::object o{{"kty", "RSA"},
                              {"kid", kid},
                              {"use", "sig"},
                              {"alg", "RS256"},
                              {"n", base64url(bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_N))},
                              {"e", base64url(bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_E))}};
  return boost::json::serialize(o);
}

std::string rsa_key::public_pem() const {
  const std::unique_ptr<BIO, bio_free> bio(BIO_new(BIO_s_mem()));
  check(bio && PEM_write_bio_PUBKEY(bio.get(), key_.get()) == 1, "PEM_write_bio_PUBKEY");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string rsa_key::sign_rs256(std::string_view signing_input) const {
  const std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  check(ctx && EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key_.get(), nullptr) == 1,
        "EVP_DigestSignInit_ex");
  const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
  std::size_t len = 0;
  check(EVP_DigestSign(ctx.get(), nullptr, &len, in, signing_input.size()) == 1, "EVP_DigestSign");
  std::string sig(len, '\0');
  check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, signing_input.size()) == 1,
        "EVP_DigestSign");
  sig.resize(len);
  return sig;
}

std::string jwks(const std::vector<std::string>& jwk_objects) {
  std::string out = R"({"keys":[)";
  for (std::size_t i = 0; i < jwk_objects.size(); ++i) out += (i ? "," : "") + jwk_objects[i];
  return out + "]}";
}

std::string base64url(std::string_view bytes) {
  const auto variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string hs256(std::string_view key, std::string_view signing_input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  check(HMAC(EVP_sha256(), key.empty() ? "" : key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &len) != nullptr,
        "HMAC");
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::string make_jwt(std::string_view header_json, std::string_view claims_json, const rsa_key* key,
                     std::string_view hs_secret) {
  const std::string signing_input = base64url(header_json) + "." + base64url(claims_json);
  boost::json::error_code ec;
  const auto header = boost::json::parse(header_json, ec);
  const auto* alg = !ec && header.is_object() ? header.get_object().if_contains("alg") : nullptr;
  std::string signature;
  if (alg && alg->is_string() && alg->get_string() == "RS256") {
    if (!key) throw std::invalid_argument("make_jwt: alg RS256 needs a key");
    signature = key->sign_rs256(signing_input);
  } else if (alg && alg->is_string() && alg->get_string() == "HS256") {
    signature = hs256(hs_secret, signing_input);
  }
  return signing_input + "." + base64url(signature);
}

}  // namespace splitvote::testing
