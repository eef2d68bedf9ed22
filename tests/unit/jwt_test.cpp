#include "splitvote/auth/jwt.hpp"
#include "splitvote/testing/jwt.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>

using namespace splitvote::auth;
using namespace splitvote::testing;
using Catch::Matchers::Contains;

namespace {

constexpr std::int64_t t0 = 1'700'000'000;
const std::chrono::system_clock::time_point now{std::chrono::seconds(t0)};
const std::string hs256_key = "0123456789abcdef0123456789abcdef-hs256";
const std::string rs_header = R"({"alg":"RS256","typ":"JWT","kid":"k1"})";
const std::string hs_header = R"({"alg":"HS256","typ":"JWT"})";

/// Key generation is the slow part: two keys for the whole file.
const rsa_key& signer() {
  static const rsa_key k;
  return k;
}
const rsa_key& stranger() {
  static const rsa_key k;
  return k;
}

jwt_settings rs_settings() {
  jwt_settings s;
  s.algorithms = {"RS256"};
  s.jwks_json = jwks({signer().jwk("k1")});
  s.issuer = "https://id.example";
  s.audience = "splitvote";
  return s;
}

jwt_settings hs_settings() {
  auto s = rs_settings();
  s.algorithms = {"HS256"};
  s.jwks_json.clear();
  s.hs256_secret = hs256_key;
  return s;
}

boost::json::object claims() {
  return {{"iss", "https://id.example"},  {"aud", "splitvote"}, {"sub", "alice"},
          {"email", "alice@example.org"}, {"iat", t0},          {"exp", t0 + 300}};
}

std::string text(const boost::json::object& o) { return boost::json::serialize(o); }

std::string rs_token(const boost::json::object& c = claims(), const std::string& header = rs_header,
                     const rsa_key& key = signer()) {
  return make_jwt(header, text(c), &key);
}

/// "ok:<actor>" when accepted, else the rejection's reason.
std::string outcome(const jwt_verifier& v, std::string_view token, std::chrono::system_clock::time_point at = now) {
  try {
    return "ok:" + v.verify(token, at);
  } catch (const jwt_rejection& e) {
    return e.reason;
  }
}

std::string with_claim(const char* name, boost::json::value value) {
  auto c = claims();
  c[name] = std::move(value);
  return rs_token(c);
}

std::string without_claim(const char* name) {
  auto c = claims();
  c.erase(name);
  return rs_token(c);
}

/// A JWK text with one member changed.
std::string jwk_with(const rsa_key& key, const std::string& kid, const char* name, const char* value) {
  auto o = boost::json::parse(key.jwk(kid)).as_object();
  o[name] = value;
  return text(o);
}

std::vector<std::string> parts(const std::string& token) {
  std::vector<std::string> out(1);
  for (char c : token) {
    if (c == '.')
      out.emplace_back();
    else
      out.back().push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE("a valid RS256 token names its actor", "[unit][jwt]") {
  const jwt_verifier v(rs_settings());
  CHECK(outcome(v, rs_token()) == "ok:alice");
  CHECK(outcome(v, rs_token(claims(), R"({"alg":"RS256"})")) == "ok:alice");  // no kid, one key
  auto c = claims();
  c["exp"] = static_cast<double>(t0) + 0.5;  // NumericDate may be fractional
  c["aud"] = boost::json::array{"other", "splitvote"};
  CHECK(outcome(v, rs_token(c)) == "ok:alice");

  auto s = rs_settings();
  s.actor_claim = "email";
  CHECK(outcome(jwt_verifier(s), rs_token()) == "ok:alice@example.org");
  CHECK(jwt_verifier(s).settings().actor_claim == "email");

  // Other kinds of keys in the JWKS are skipped silently.
  s = rs_settings();
  s.jwks_json =
      jwks({R"({"kty":"EC","crv":"P-256","x":"AA","y":"AA"})", R"({"kty":"oct","k":"AA"})", signer().jwk("k1")});
  CHECK(outcome(jwt_verifier(s), rs_token()) == "ok:alice");
}

TEST_CASE("a valid HS256 token passes when HS256 is pinned", "[unit][jwt]") {
  const jwt_verifier v(hs_settings());
  CHECK(outcome(v, make_jwt(hs_header, text(claims()), nullptr, hs256_key)) == "ok:alice");
  CHECK(outcome(v, make_jwt(hs_header, text(claims()), nullptr, hs256_key + "x")) == "signature");
  CHECK(outcome(v, rs_token()) == "algorithm");  // RS256 is not configured here

  auto both = rs_settings();
  both.algorithms = {"RS256", "HS256"};
  both.hs256_secret = hs256_key;
  const jwt_verifier b(both);
  CHECK(outcome(b, make_jwt(hs_header, text(claims()), nullptr, hs256_key)) == "ok:alice");
  CHECK(outcome(b, rs_token()) == "ok:alice");
}

TEST_CASE("the checks cannot pass vacuously", "[unit][jwt]") {
  const jwt_verifier v(rs_settings());
  const auto token = rs_token();
  REQUIRE(outcome(v, token) == "ok:alice");
  auto p = parts(token);
  REQUIRE(p.size() == 3);

  auto last_changed = p[1];
  last_changed.back() = last_changed.back() == 'A' ? 'B' : 'A';
  CHECK(outcome(v, p[0] + "." + last_changed + "." + p[2]).rfind("ok:", 0) != 0);

  // Same claims but "mallory": valid base64url and JSON, only the signature can tell.
  const auto forged = base64url(text([] {
    auto c = claims();
    c["sub"] = "mallory";
    return c;
  }()));
  CHECK(outcome(v, p[0] + "." + forged + "." + p[2]) == "signature");
  // The signature of another token of the same key.
  CHECK(outcome(v, p[0] + "." + p[1] + "." + parts(without_claim("email"))[2]) == "signature");
  // The same token under a JWKS holding another key with the same kid.
  auto s = rs_settings();
  s.jwks_json = jwks({stranger().jwk("k1")});
  CHECK(outcome(jwt_verifier(s), token) == "signature");
}

TEST_CASE("alg none is never accepted, whatever its spelling", "[unit][jwt]") {
  auto both = rs_settings();
  both.algorithms = {"RS256", "HS256"};
  both.hs256_secret = hs256_key;
  for (const auto& s : {rs_settings(), hs_settings(), both}) {
    const jwt_verifier v(s);
    for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
      const auto header = std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})";
      const auto token = make_jwt(header, text(claims()), nullptr);
      REQUIRE(token.back() == '.');  // the signature is empty
      CHECK(outcome(v, token) == "algorithm");
      CHECK(outcome(v, token + "c2ln") == "algorithm");
    }
    CHECK(outcome(v, make_jwt(R"({"alg":"rs256","kid":"k1"})", text(claims()), nullptr)) == "algorithm");
    CHECK(outcome(v, make_jwt(R"({"alg":"RS512","kid":"k1"})", text(claims()), nullptr)) == "algorithm");
  }
}

TEST_CASE("HS256 keyed with the RSA public key is refused", "[unit][jwt]") {
  const auto pem = signer().public_pem();
  REQUIRE(pem.rfind("-----BEGIN PUBLIC KEY-----", 0) == 0);
  const auto header = R"({"alg":"HS256","typ":"JWT","kid":"k1"})";
  const auto with_pem = make_jwt(header, text(claims()), nullptr, pem);
  const auto with_jwk = make_jwt(header, text(claims()), nullptr, signer().jwk("k1"));

  // Config pins RS256: the algorithm itself is refused.
  const jwt_verifier rs_only(rs_settings());
  CHECK(outcome(rs_only, with_pem) == "algorithm");
  CHECK(outcome(rs_only, with_jwk) == "algorithm");

  // Config allows both: HS256 is keyed with the configured secret, never with the JWKS.
  auto both = rs_settings();
  both.algorithms = {"RS256", "HS256"};
  both.hs256_secret = hs256_key;
  const jwt_verifier b(both);
  CHECK(outcome(b, with_pem) == "signature");
  CHECK(outcome(b, with_jwk) == "signature");
}

TEST_CASE("exp and nbf are enforced with the leeway", "[unit][jwt]") {
  const jwt_verifier v(rs_settings());  // leeway 60 s
  CHECK(outcome(v, with_claim("exp", t0 - 61)) == "expired");
  CHECK(outcome(v, with_claim("exp", t0 - 59)) == "ok:alice");
  CHECK(outcome(v, with_claim("exp", t0 - 60)) == "expired");  // exactly at exp + leeway: RFC 7519 wants "before"
  CHECK(outcome(v, rs_token(), now + std::chrono::seconds(361)) == "expired");
  CHECK(outcome(v, without_claim("exp")) == "malformed");
  CHECK(outcome(v, with_claim("exp", "1700000300")) == "malformed");
  CHECK(outcome(v, with_claim("exp", nullptr)) == "malformed");

  CHECK(outcome(v, with_claim("nbf", t0 + 120)) == "not-yet-valid");
  CHECK(outcome(v, with_claim("nbf", t0 + 30)) == "ok:alice");
  CHECK(outcome(v, with_claim("nbf", t0 - 30)) == "ok:alice");
  CHECK(outcome(v, with_claim("nbf", "soon")) == "malformed");

  auto strict = rs_settings();
  strict.leeway = std::chrono::seconds(0);
  CHECK(outcome(jwt_verifier(strict), with_claim("exp", t0 - 1)) == "expired");
  CHECK(outcome(jwt_verifier(strict), with_claim("nbf", t0 + 1)) == "not-yet-valid");
}

TEST_CASE("iss and aud must name us", "[unit][jwt]") {
  const jwt_verifier v(rs_settings());
  CHECK(outcome(v, with_claim("aud", "someone-else")) == "audience");
  CHECK(outcome(v, with_claim("aud", boost::json::array{"a", "b"})) == "audience");
  CHECK(outcome(v, with_claim("aud", boost::json::array{})) == "audience");
  CHECK(outcome(v, with_claim("aud", boost::json::array{"a", "splitvote"})) == "ok:alice");
  CHECK(outcome(v, with_claim("aud", "Splitvote")) == "audience");
  CHECK(outcome(v, with_claim("aud", 7)) == "audience");
  CHECK(outcome(v, without_claim("aud")) == "audience");

  CHECK(outcome(v, with_claim("iss", "https://evil.example")) == "issuer");
  CHECK(outcome(v, with_claim("iss", "https://id.example/")) == "issuer");
  CHECK(outcome(v, with_claim("iss", boost::json::array{"https://id.example"})) == "issuer");
  CHECK(outcome(v, without_claim("iss")) == "issuer");
}

TEST_CASE("a bad signature is refused", "[unit][jwt]") {
  const jwt_verifier v(rs_settings());
  const auto p = parts(rs_token());
  const auto sig = signer().sign_rs256(p[0] + "." + p[1]);
  REQUIRE(sig.size() == 256);

  auto flipped = sig;
  flipped[100] = static_cast<char>(flipped[100] ^ 0x01);
  CHECK(outcome(v, p[0] + "." + p[1] + "." + base64url(flipped)) == "signature");
  CHECK(outcome(v, p[0] + "." + p[1] + "." + base64url(sig.substr(1))) == "signature");
  CHECK(outcome(v, p[0] + "." + p[1] + "." + base64url(sig + '\0')) == "signature");
  CHECK(outcome(v, p[0] + "." + p[1] + "." + base64url(std::string(1, '\0') + sig)) == "signature");
  CHECK(outcome(v, p[0] + "." + p[1] + ".") == "signature");
  CHECK(outcome(v, rs_token(claims(), rs_header, stranger())) == "signature");

  // A key the token carries itself (jwk, jku) is never used.
  const auto embedded = boost::json::object{{"alg", "RS256"},
                                            {"kid", "k1"},
                                            {"jwk", boost::json::parse(stranger().jwk("k1"))},
                                            {"jku", "https://evil.example/jwks.json"}};
  CHECK(outcome(v, rs_token(claims(), text(embedded), stranger())) == "signature");
}

TEST_CASE("a token over the size limit is refused before parsing", "[unit][jwt]") {
  const jwt_verifier v(rs_settings());
  CHECK(outcome(v, std::string(8193, 'a')) == "oversize");
  CHECK(outcome(v, std::string(8192, 'a')) == "malformed");
  CHECK(outcome(v, with_claim("pad", boost::json::string(7000, 'x'))) == "oversize");

  auto s = rs_settings();
  const auto token = rs_token();
  s.max_token_bytes = token.size();
  CHECK(outcome(jwt_verifier(s), token) == "ok:alice");
  s.max_token_bytes = token.size() - 1;
  CHECK(outcome(jwt_verifier(s), token) == "oversize");
}

TEST_CASE("only strict base64url in exactly three parts is read", "[unit][jwt]") {
  const jwt_verifier v(rs_settings());
  // Runs of '>' and '?' make '-' and '_' certain in the payload's base64url.
  const auto token = with_claim("x", ">>>>>>??????");
  REQUIRE(outcome(v, token) == "ok:alice");
  const auto p = parts(token);
  REQUIRE(p[1].find('-') != std::string::npos);
  REQUIRE(p[1].find('_') != std::string::npos);

  auto standard = token;
  std::replace(standard.begin(), standard.end(), '-', '+');
  std::replace(standard.begin(), standard.end(), '_', '/');
  CHECK(outcome(v, standard) == "malformed");
  CHECK(outcome(v, p[0] + "=." + p[1] + "." + p[2]) == "malformed");
  CHECK(outcome(v, p[0] + "." + p[1] + "==." + p[2]) == "malformed");
  CHECK(outcome(v, p[0] + "." + p[1] + "." + p[2] + "=") == "malformed");
  CHECK(outcome(v, p[0] + "." + p[1] + "." + "+" + p[2].substr(1)) == "malformed");
  CHECK(outcome(v, p[0] + "." + p[1] + "." + "/" + p[2].substr(1)) == "malformed");
  CHECK(outcome(v, p[0] + "." + p[1] + " ." + p[2]) == "malformed");
  CHECK(outcome(v, p[0] + "." + p[1].substr(0, 10) + "\n" + p[1].substr(10) + "." + p[2]) == "malformed");

  CHECK(outcome(v, p[0] + "." + p[1]) == "malformed");
  CHECK(outcome(v, token + ".") == "malformed");
  CHECK(outcome(v, token + "." + p[2]) == "malformed");
  CHECK(outcome(v, "") == "malformed");
  CHECK(outcome(v, "..") == "malformed");
}

TEST_CASE("the header must be a JSON object with a string alg and no crit", "[unit][jwt]") {
  const jwt_verifier v(rs_settings());
  const auto signed_with = [](const std::string& header_bytes) {
    const auto input = base64url(header_bytes) + "." + base64url(text(claims()));
    return input + "." + base64url(signer().sign_rs256(input));
  };
  CHECK(outcome(v, signed_with(rs_header)) == "ok:alice");
  CHECK(outcome(v, signed_with("not json")) == "malformed");
  CHECK(outcome(v, signed_with(R"(["RS256"])")) == "malformed");
  CHECK(outcome(v, signed_with(R"({"alg":"RS256","kid":"k1"} x)")) == "malformed");
  CHECK(outcome(v, signed_with(R"({"kid":"k1"})")) == "malformed");
  CHECK(outcome(v, signed_with(R"({"alg":256,"kid":"k1"})")) == "malformed");
  CHECK(outcome(v, signed_with(R"({"alg":"RS256","kid":"k1","crit":["exp"],"exp":1})")) == "malformed");
  CHECK(outcome(v, signed_with(R"({"alg":"RS256","kid":1})")) == "malformed");

  // The payload, once the signature holds, must be a JSON object too.
  const auto input = base64url(rs_header) + "." + base64url(R"(["sub","alice"])");
  CHECK(outcome(v, input + "." + base64url(signer().sign_rs256(input))) == "malformed");
}

TEST_CASE("the RS256 key is the JWKS key of the kid, or the only one", "[unit][jwt]") {
  auto two = rs_settings();
  two.jwks_json = jwks({signer().jwk("k1"), stranger().jwk("k2")});
  const jwt_verifier v(two);
  CHECK(outcome(v, rs_token()) == "ok:alice");
  CHECK(outcome(v, rs_token(claims(), R"({"alg":"RS256","kid":"k2"})", stranger())) == "ok:alice");
  CHECK(outcome(v, rs_token(claims(), R"({"alg":"RS256","kid":"k3"})")) == "key");
  CHECK(outcome(v, rs_token(claims(), R"({"alg":"RS256","kid":"K1"})")) == "key");
  CHECK(outcome(v, rs_token(claims(), R"({"alg":"RS256"})")) == "key");  // no kid, two keys
  CHECK(outcome(v, rs_token(claims(), R"({"alg":"RS256","kid":"k2"})")) == "signature");
}

TEST_CASE("a JWKS key for another alg or use is never used", "[unit][jwt]") {
  for (const auto& [member, value] : {std::pair{"alg", "HS256"}, std::pair{"alg", "RS512"}, std::pair{"use", "enc"}}) {
    auto s = rs_settings();
    s.jwks_json = jwks({jwk_with(signer(), "k1", member, value), stranger().jwk("k2")});
    const jwt_verifier v(s);
    CHECK(outcome(v, rs_token()) == "key");
    // Without a kid the one usable key is the stranger's: the signer's is still not used.
    CHECK(outcome(v, rs_token(claims(), R"({"alg":"RS256"})")) == "signature");
    CHECK(outcome(v, rs_token(claims(), R"({"alg":"RS256"})", stranger())) == "ok:alice");

    s.jwks_json = jwks({jwk_with(signer(), "k1", member, value)});
    CHECK_THROWS_AS(jwt_verifier(s), std::invalid_argument);  // no usable key is left
  }
}

TEST_CASE("the actor claim is a string of 1 to 256 bytes", "[unit][jwt]") {
  const jwt_verifier v(rs_settings());
  CHECK(outcome(v, without_claim("sub")) == "actor-claim");
  CHECK(outcome(v, with_claim("sub", 42)) == "actor-claim");
  CHECK(outcome(v, with_claim("sub", boost::json::array{"alice"})) == "actor-claim");
  CHECK(outcome(v, with_claim("sub", "")) == "actor-claim");
  CHECK(outcome(v, with_claim("sub", boost::json::string(300, 'a'))) == "actor-claim");
  CHECK(outcome(v, with_claim("sub", boost::json::string(257, 'a'))) == "actor-claim");
  CHECK(outcome(v, with_claim("sub", boost::json::string(256, 'a'))) == "ok:" + std::string(256, 'a'));
}

TEST_CASE("settings are checked when the verifier is made", "[unit][jwt]") {
  const auto refused = [](const std::function<void(jwt_settings&)>& change, const std::string& words) {
    auto s = rs_settings();
    change(s);
    CHECK_THROWS_WITH(jwt_verifier(s), Contains(words));
  };
  refused([](auto& s) { s.algorithms = {}; }, "no algorithms");
  refused([](auto& s) { s.algorithms = {"none"}; }, "none");
  refused([](auto& s) { s.algorithms = {"RS256", "None"}; }, "none");
  refused([](auto& s) { s.algorithms = {"RS512"}; }, "RS512");
  refused([](auto& s) { s.algorithms = {"rs256"}; }, "unknown");
  refused(
      [](auto& s) {
        s.algorithms = {"HS256"};
        s.hs256_secret = std::string(31, 'k');
      },
      "32 bytes");
  refused([](auto& s) { s.algorithms = {"RS256", "HS256"}; }, "32 bytes");  // no hs256_key at all
  refused([](auto& s) { s.jwks_json.clear(); }, "JWKS");
  refused([](auto& s) { s.jwks_json = R"({"keys":[]})"; }, "no usable RSA key");
  refused([](auto& s) { s.jwks_json = "{"; }, "jwks_json");
  refused([](auto& s) { s.jwks_json = R"({"keys":[{"kty":"RSA","kid":"k1","n":"AQAB"}]})"; }, "n or e");
  refused([](auto& s) { s.jwks_json = R"({"keys":[{"kty":"RSA","n":"AQ+B","e":"AQAB"}]})"; }, "base64url");
  refused([](auto& s) { s.jwks_json = jwks({rsa_key(1024).jwk("small")}); }, "1024 bits");
  refused([](auto& s) { s.jwks_json = jwks({signer().jwk("k1"), stranger().jwk("k1")}); }, "two usable keys");
  refused([](auto& s) { s.issuer.clear(); }, "issuer");
  refused([](auto& s) { s.audience.clear(); }, "audience");
  refused([](auto& s) { s.actor_claim.clear(); }, "actor_claim");

  CHECK_NOTHROW(jwt_verifier(hs_settings()));
  auto hs_exact = hs_settings();
  hs_exact.hs256_secret = std::string(32, 'k');
  CHECK_NOTHROW(jwt_verifier(hs_exact));
}

TEST_CASE("replace_jwks swaps the RS256 keys; a refused document keeps the keys in use", "[unit][jwt]") {
  jwt_verifier v(rs_settings());
  const rsa_key next;
  const std::string next_header = R"({"alg":"RS256","kid":"k2"})";
  CHECK(outcome(v, rs_token(claims(), next_header, next)) == "key");

  CHECK_FALSE(v.replace_jwks(jwks({signer().jwk("k1")})));            // the same keys again: no change
  CHECK(v.replace_jwks(jwks({signer().jwk("k1"), next.jwk("k2")})));  // the overlap of a rotation
  CHECK(outcome(v, rs_token()) == "ok:alice");
  CHECK(outcome(v, rs_token(claims(), next_header, next)) == "ok:alice");

  CHECK(v.replace_jwks(jwks({next.jwk("k2")})));  // the old key retired
  CHECK(outcome(v, rs_token()) == "key");
  CHECK(outcome(v, rs_token(claims(), next_header, next)) == "ok:alice");

  for (const std::string& refused : {std::string(""), std::string(R"({"keys":"no"})"),
                                     jwks({R"({"kty":"oct","k":"AA"})"}), jwks({rsa_key(1024).jwk("small")})}) {
    INFO(refused);
    CHECK_THROWS_AS(v.replace_jwks(refused), std::invalid_argument);
    CHECK(outcome(v, rs_token(claims(), next_header, next)) == "ok:alice");
  }

  auto hs = rs_settings();
  hs.algorithms = {"HS256"};
  hs.hs256_secret = std::string(32, 's');
  hs.jwks_json.clear();
  jwt_verifier hs_only(hs);
  CHECK_THROWS_AS(hs_only.replace_jwks(jwks({signer().jwk("k1")})), std::invalid_argument);
}
