// Who may vote in a poll and read its results: the per-poll settings and their names in the API.
#pragma once

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

inline std::string_view to_string(voter_auth a) {
  switch (a) {
    case voter_auth::open:
      return "open";
    case voter_auth::tokens:
      return "tokens";
    case voter_auth::jwt:
      return "jwt";
  }
  return "open";
}

inline std::string_view to_string(results_visibility v) {
  return v == results_visibility::open_to_all ? "public" : "admin";
}

inline std::optional<voter_auth> parse_voter_auth(std::string_view s) {
  for (const auto a : {voter_auth::open, voter_auth::tokens, voter_auth::jwt})
    if (s == to_string(a)) return a;
  return std::nullopt;
}

inline std::optional<results_visibility> parse_results_visibility(std::string_view s) {
  for (const auto v : {results_visibility::admin, results_visibility::open_to_all})
    if (s == to_string(v)) return v;
  return std::nullopt;
}

}  // namespace splitvote::catalog
