// Who may vote in a poll and read its results: the per-poll settings and their names in the API.
#pragma once

#include "splitvote/privacy/names.hpp"

#include <optional>
#include <string_view>

namespace splitvote::catalog {

/// How a poll's voters prove who they are (docs/security.md).
enum class voter_auth {
  open,    // any actor id in the body (checked against the eligible list, if there is one)
  tokens,  // a personal voting token per eligible actor, made at creation
  jwt,     // a bearer JWT from the operator's identity provider names the actor
};
/// Who may read results once the poll is closed (before that: the admin token, always).
enum class results_visibility { admin, open_to_all };

inline constexpr privacy::name_table<voter_auth, 3> voter_auth_names{
    {{voter_auth::open, "open"}, {voter_auth::tokens, "tokens"}, {voter_auth::jwt, "jwt"}}};
inline constexpr privacy::name_table<results_visibility, 2> results_visibility_names{
    {{results_visibility::admin, "admin"}, {results_visibility::open_to_all, "public"}}};

inline std::string_view to_string(voter_auth a) { return privacy::name_of(voter_auth_names, a); }
inline std::string_view to_string(results_visibility v) { return privacy::name_of(results_visibility_names, v); }
inline std::optional<voter_auth> parse_voter_auth(std::string_view s) {
  return privacy::value_named(voter_auth_names, s);
}
inline std::optional<results_visibility> parse_results_visibility(std::string_view s) {
  return privacy::value_named(results_visibility_names, s);
}

}  // namespace splitvote::catalog
