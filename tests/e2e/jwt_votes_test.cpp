// End to end: jwt polls, where the identity provider's token names the actor.
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/jwt.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/stack.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

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

TEST_CASE("the identity provider rotates its signing key: SIGHUP or the reload interval swaps the JWKS under load",
          "[e2e][jwks-reload]") {
  const auto dir = temp_dir("e2e-jwks");
  const auto jwks_path = dir / "jwks.json";
  const auto publish = [&](const std::string& doc) {  // as a provider's sync job would: whole, then renamed
    { std::ofstream(jwks_path.string() + ".tmp") << doc; }
    std::filesystem::rename(jwks_path.string() + ".tmp", jwks_path);
  };
  const rsa_key old_key, new_key;
  const long now = static_cast<long>(std::time(nullptr));
  const auto token = [&](const rsa_key& key, const std::string& kid, const std::string& sub) {
    return make_jwt(R"({"alg":"RS256","kid":")" + kid + R"("})",
                    R"({"sub":")" + sub + R"(","iss":"https://idp.test","aud":"splitvote","exp":)" +
                        std::to_string(now + 600) + "}",
                    &key);
  };
  const auto settings = [&](const std::string& interval_ms) {
    return stack_options{{},
                         {{"SPLITVOTE_AUTH__JWT__ALGORITHMS", "RS256"},
                          {"SPLITVOTE_AUTH__JWT__JWKS_FILE", jwks_path.string()},
                          {"SPLITVOTE_AUTH__JWT__JWKS_RELOAD_INTERVAL_MS", interval_ms},
                          {"SPLITVOTE_AUTH__JWT__ISSUER", "https://idp.test"},
                          {"SPLITVOTE_AUTH__JWT__AUDIENCE", "splitvote"}}};
  };
  const std::string poll_body = R"({"title":"K","choices":["yes","no"],"voter_auth":{"mode":"jwt"}})";
  const auto vote = [](unsigned short port, const created_poll& p, const std::string& jwt) {
    return http_client(port)
        .request("POST", p.votes_path(), R"({"choice":"yes"})",
                 {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + jwt}})
        .status;
  };

  SECTION("SIGHUP, while votes stream in: every answer is 202 or 401, never an error") {
    publish(jwks({old_key.jwk("2026-a")}));
    stack s("e2e-jwks-hup", settings("0"));
    const auto poll = start_with_poll(s, poll_body);
    CHECK(vote(s.port(), poll, token(old_key, "2026-a", "before-old")) == 202);
    CHECK(vote(s.port(), poll, token(new_key, "2026-b", "before-new")) == 401);

    std::atomic<bool> stop{false};
    std::map<unsigned, int> statuses;
    std::thread load([&] {
      for (int i = 0; !stop; ++i) {
        const bool use_new = i % 2 == 1;
        ++statuses[vote(
            s.port(), poll,
            token(use_new ? new_key : old_key, use_new ? "2026-b" : "2026-a", "load-" + std::to_string(i)))];
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    publish(jwks({new_key.jwk("2026-b")}));  // the old key retired at once
    s.process(stack::service::ingest)->signal(SIGHUP);
    CHECK(s.wait_for_log(stack::service::ingest, 0, R"("event":"jwks_reloaded")"));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop = true;
    load.join();
    INFO("statuses under load: " << statuses.size());
    for (const auto& [status, count] : statuses) CHECK((status == 202 || status == 401));
    CHECK(statuses[202] > 0);

    CHECK(vote(s.port(), poll, token(new_key, "2026-b", "after-new")) == 202);
    CHECK(vote(s.port(), poll, token(old_key, "2026-a", "after-old")) == 401);
    CHECK(vote(s.port(), poll, token(old_key, "2026-a", "before-old")) == 401);  // the old key is gone, not the vote

    // A broken document is refused and the keys in use stay.
    publish(R"({"keys":"not a list"})");
    s.process(stack::service::ingest)->signal(SIGHUP);
    CHECK(s.wait_for_log(stack::service::ingest, 0, R"("event":"jwks_reload_failed")"));
    CHECK(vote(s.port(), poll, token(new_key, "2026-b", "after-broken")) == 202);
  }

  SECTION("the reload interval picks up a new key without a signal") {
    publish(jwks({old_key.jwk("2026-a")}));
    stack s("e2e-jwks-interval", settings("200"));
    const auto poll = start_with_poll(s, poll_body);
    CHECK(vote(s.port(), poll, token(new_key, "2026-b", "early")) == 401);
    publish(jwks({old_key.jwk("2026-a"), new_key.jwk("2026-b")}));  // both during the overlap
    CHECK(s.wait_for_log(stack::service::ingest, 0, R"("changed":true)"));
    CHECK(vote(s.port(), poll, token(new_key, "2026-b", "late")) == 202);
    CHECK(vote(s.port(), poll, token(old_key, "2026-a", "still-old")) == 202);
  }
}
