// Who may do what to a poll: its admin's token, and the actor a vote is from (open, voter token, JWT).
#pragma once

#include "splitvote/auth/jwt.hpp"
#include "splitvote/catalog/poll.hpp"
#include "splitvote/http/message.hpp"
#include "splitvote/ingest/catalog_store.hpp"
#include "splitvote/privacy/actor_key.hpp"

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace splitvote::ingest {

struct voter_auth_options {
  std::string actor_secret;  // server secret for actor keys
  /// Key of the admin and voter token hashes (privacy::keyed_token_hash); the hashes' labels
  /// keep its uses apart.
  std::string token_key;
  /// Verifies the bearer JWTs of `jwt` polls; none: such polls cannot be created here.
  std::shared_ptr<const auth::jwt_verifier> jwt;
};

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), if any.
std::optional<std::string_view> bearer_token(const http::request& req);

/// Checks credentials against a poll and derives actor keys. Every refusal is a problem_error.
class voter_auth {
public:
  using digest = std::array<std::byte, 32>;

  voter_auth(voter_auth_options options, catalog_store& catalog);

  /// 401 without a bearer token, 403 with the wrong one.
  void require_admin(const http::request& req, const catalog::poll& p) const;
  /// The key of the actor a vote is from, by the poll's voter_auth: the body's actor id
  /// (open), the voter's token, or a JWT. 400/401/403 problems otherwise (and 503 for a JWT
  /// poll on an instance without a verifier).
  privacy::actor_key authenticate_voter(const http::request& req, const catalog::poll& p,
                                        const std::optional<std::string>& body_actor) const;

  /// What a new poll stores of its credentials: the admin token's hash, a voter token's hash,
  /// an actor id's key.
  digest admin_token_hash(const catalog::poll& p, std::string_view token) const;
  digest voter_token_hash(const catalog::poll& p, std::string_view token) const;
  privacy::actor_key actor_key(const catalog::poll& p, std::string_view actor) const;
  bool verifies_jwt() const { return options_.jwt != nullptr; }

private:
  voter_auth_options options_;
  catalog_store& catalog_;
};

}  // namespace splitvote::ingest
