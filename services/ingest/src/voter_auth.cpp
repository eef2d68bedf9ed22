#include "splitvote/ingest/voter_auth.hpp"

#include "splitvote/ingest/problems.hpp"
#include "splitvote/observability/log.hpp"
#include "splitvote/observability/metrics.hpp"
#include "splitvote/privacy/actor_key.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <stdexcept>
#include <utility>

namespace splitvote::ingest {

namespace {

prometheus::Family<prometheus::Counter>& jwt_rejections() {
  static auto& family =
      observability::counter_family("splitvote_jwt_rejections_total", "Bearer JWTs of votes refused, by reason");
  return family;
}

}  // namespace

std::optional<std::string_view> bearer_token(const http::request& req) {
  const auto auth = req.header("Authorization");
  if (!auth || auth->size() <= 7) return std::nullopt;
  const std::string_view v = *auth;
  if (!std::equal(v.begin(), v.begin() + 7, "bearer ",
                  [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
    return std::nullopt;
  return v.substr(7);
}

voter_auth::voter_auth(voter_auth_options options, catalog_store& catalog)
    : options_(std::move(options)), catalog_(catalog) {}

voter_auth::digest voter_auth::admin_token_hash(const catalog::poll& p, std::string_view token) const {
  return privacy::keyed_token_hash(options_.token_key, "admin/" + p.id, token);
}

voter_auth::digest voter_auth::voter_token_hash(const catalog::poll& p, std::string_view token) const {
  return privacy::keyed_token_hash(options_.token_key, "voter/" + p.id, token);
}

privacy::actor_key voter_auth::actor_key(const catalog::poll& p, std::string_view actor) const {
  return privacy::derive_actor_key(options_.actor_secret, p.actor_key_salt(), actor);
}

void voter_auth::require_admin(const http::request& req, const catalog::poll& p) const {
  const auto token = bearer_token(req);
  if (!token) throw problems::unauthorized("send the poll's admin token as 'Authorization: Bearer <token>'");
  const auto digest =
      p.admin_token_scheme == catalog::token_scheme::sha256 ? privacy::token_hash(*token) : admin_token_hash(p, *token);
  if (!privacy::equal_digest(digest, p.admin_token_hash))
    throw problems::forbidden("this token is not the poll's admin token");
}

privacy::actor_key voter_auth::authenticate_voter(const http::request& req, const catalog::poll& p,
                                                  const std::optional<std::string>& body_actor) const {
  const auto check_eligible = [&](const privacy::actor_key& key) {
    if (p.eligible_count > 0 && !catalog_.is_eligible(p.id, key)) throw problems::not_eligible();
  };
  switch (p.voter_auth) {
    case catalog::voter_auth::open: {
      if (!body_actor) throw problems::invalid_request("actor_id is required");
      const auto key = actor_key(p, *body_actor);
      check_eligible(key);
      return key;
    }
    case catalog::voter_auth::tokens: {
      const auto token = bearer_token(req);
      if (!token)
        throw problems::unauthorized("this poll's votes carry the voter's token as 'Authorization: Bearer <token>'");
      const auto key = catalog_.actor_for_token(p.id, voter_token_hash(p, *token));
      if (!key) throw problems::forbidden("this token is not a voting token of this poll");
      if (body_actor && !privacy::equal_digest(actor_key(p, *body_actor), *key))
        throw problems::actor_mismatch("the body's actor_id is not the actor this token belongs to");
      return *key;
    }
    case catalog::voter_auth::jwt: {
      if (!options_.jwt) {
        static std::atomic<bool> hinted{false};  // a configuration mismatch: once is enough
        if (!hinted.exchange(true))
          observability::log_warn("jwt_unavailable",
                                  {{"poll_id", p.id}, {"hint", "this instance has no auth.jwt.* configured"}});
        throw problems::jwt_unavailable_for_vote();
      }
      const auto token = bearer_token(req);
      if (!token)
        throw problems::unauthorized(
            "this poll's votes carry a JWT from the identity provider as 'Authorization: Bearer <jwt>'");
      std::string actor;
      try {
        actor = options_.jwt->verify(*token, std::chrono::system_clock::now());
      } catch (const auth::jwt_rejection& e) {
        jwt_rejections().Add({{"reason", e.reason}}).Increment();
        throw problems::invalid_token(e.reason);
      }
      if (body_actor && *body_actor != actor)
        throw problems::actor_mismatch("the body's actor_id is not the actor the JWT names");
      const auto key = actor_key(p, actor);
      check_eligible(key);
      return key;
    }
  }
  throw std::logic_error("unknown voter_auth");
}

}  // namespace splitvote::ingest
