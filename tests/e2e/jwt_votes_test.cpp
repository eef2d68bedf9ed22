// End to end: jwt polls, where the identity provider's token names the actor.
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/jwt.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/stack.hpp"

#include <catch2/catch.hpp>

#include <ctime>
#include <fstream>
#include <string>

using namespace splitvote::testing;

TEST_CASE("jwt polls: the identity provider's token names the actor; forged, expired and misaddressed tokens are 401",
          "[e2e][jwt-votes]") {
  const auto dir = temp_dir("e2e-jwt");
  const rsa_key idp, stranger;
  { std::ofstream(dir / "jwks.json") << jwks({idp.jwk("k1")}); }
  stack s("e2e-jwt", {{},
                      {{"SPLITVOTE_AUTH__JWT__ALGORITHMS", "RS256"},
                       {"SPLITVOTE_AUTH__JWT__JWKS_FILE", (dir / "jwks.json").string()},
                       {"SPLITVOTE_AUTH__JWT__ISSUER", "https://idp.test"},
                       {"SPLITVOTE_AUTH__JWT__AUDIENCE", "splitvote"},
                       {"SPLITVOTE_AUTH__JWT__LEEWAY_S", "30"},
                       {"SPLITVOTE_AUTH__JWT__MAX_TOKEN_BYTES", "4096"}}});
  const auto open_to_all = start_with_poll(s, R"({"title":"J","choices":["yes","no"],"voter_auth":{"mode":"jwt"},
      "privacy":{"decoys":{"distribution":"none"}}})");
  const auto listed = create_poll(
      s.port(), R"({"title":"JL","choices":["yes","no"],"eligible_actors":["ann"],"voter_auth":{"mode":"jwt"}})");
  CHECK(listed.voter_tokens.empty());  // the identity provider authenticates: no tokens of ours

  const long now = static_cast<long>(std::time(nullptr));
  const auto claims = [&](const std::string& sub, long exp_offset = 600, const std::string& aud = "\"splitvote\"",
                          const std::string& iss = "https://idp.test", const std::string& extra = "") {
    return R"({"sub":")" + sub + R"(","iss":")" + iss + R"(","aud":)" + aud + R"(,"exp":)" +
           std::to_string(now + exp_offset) + extra + "}";
  };
  const std::string rs = R"({"alg":"RS256","kid":"k1","typ":"JWT"})";
  const auto vote = [&](const created_poll& p, const std::string& token,
                        const std::string& body = R"({"choice":"yes"})") {
    http_client c(s.port());
    return c.request("POST", "/v1/polls/" + p.id + "/votes", body,
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
  };
  const auto refused = [&](const std::string& token, const std::string& reason) {
    const auto r = vote(open_to_all, token);
    INFO(reason << ": " << r.body);
    CHECK(r.status == 401);
    CHECK(r.header("www-authenticate") == "Bearer error=\"invalid_token\"");
    CHECK(r.body.find("(" + reason + ")") != std::string::npos);
  };

  SECTION("the attacks") {
    const std::string body = claims("mallory");
    refused(make_jwt(R"({"alg":"none","typ":"JWT"})", body, nullptr), "algorithm");
    refused(make_jwt(R"({"alg":"none"})", body, nullptr) + "c2lnbmF0dXJl", "algorithm");  // with a signature after all
    // HS256 keyed with the provider's public key, which anyone may have: the classic confusion.
    refused(make_jwt(R"({"alg":"HS256","kid":"k1"})", body, nullptr, idp.public_pem()), "algorithm");
    refused(make_jwt(rs, claims("mallory", -3600), &idp), "expired");
    refused(make_jwt(rs, claims("mallory", 600, "\"another-service\""), &idp), "audience");
    refused(make_jwt(rs, claims("mallory", 600, "[\"a\",\"b\"]"), &idp), "audience");
    refused(make_jwt(rs, claims("mallory", 600, "\"splitvote\"", "https://evil.test"), &idp), "issuer");
    refused(
        make_jwt(rs,
                 claims("mallory", 600, "\"splitvote\"", "https://idp.test", R"(,"nbf":)" + std::to_string(now + 3600)),
                 &idp),
        "not-yet-valid");
    refused(make_jwt(rs, body, &stranger), "signature");  // signed by another key, claiming the provider's kid
    auto flipped = make_jwt(rs, body, &idp);
    flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
    refused(flipped, "signature");
    refused(make_jwt(rs,
                     claims("mallory", 600, "\"splitvote\"", "https://idp.test",
                            R"(,"pad":")" + std::string(5000, 'p') + "\""),
                     &idp),
            "oversize");
    refused("not.a.jwt", "malformed");
    CHECK(vote(open_to_all, "", R"({"choice":"yes"})").status == 401);
    CHECK(metric(s.port(), R"(splitvote_jwt_rejections_total{reason="algorithm"})") == 3);
    CHECK(metric(s.port(), R"(splitvote_jwt_rejections_total{reason="signature"})") == 2);
  }

  SECTION("a valid token votes once; a replay is 409; the body may not name another actor") {
    const auto ann = make_jwt(rs, claims("ann"), &idp);
    CHECK(vote(open_to_all, ann, R"({"actor_id":"bob","choice":"yes"})").status == 403);
    CHECK(vote(open_to_all, ann).status == 202);
    CHECK(vote(open_to_all, ann).status == 409);
    CHECK(vote(open_to_all, make_jwt(rs, claims("ann", 900), &idp)).status == 409);  // a fresh token of the same actor
    // Within the 30 s leeway an expired token still counts.
    CHECK(vote(open_to_all, make_jwt(rs, claims("cid", -10), &idp)).status == 202);
    // On a poll with a list, the JWT's actor must be on it.
    const auto zed = vote(listed, make_jwt(rs, claims("zed"), &idp));
    CHECK(zed.status == 403);
    CHECK(zed.body.find("not-eligible") != std::string::npos);
    CHECK(vote(listed, make_jwt(rs, claims("ann"), &idp)).status == 202);
    const auto results = await_results(s.port(), open_to_all, [](const auto& r) {
      return r.at("participation").at("unique_actors").as_int64() == 2 && r.at("consistency").at("complete").as_bool();
    });
    CHECK(results.at("participation").at("submissions").as_int64() == 2);
  }
}
