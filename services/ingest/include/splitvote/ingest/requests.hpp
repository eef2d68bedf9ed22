// Parsing and validating the JSON bodies of the ingest API; every failure is a problem_error.
#pragma once

#include "splitvote/catalog/access.hpp"
#include "splitvote/privacy/policy.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace splitvote::ingest {

inline constexpr std::size_t max_choices = 64;
inline constexpr std::size_t max_label_bytes = 200;
inline constexpr std::size_t max_title_bytes = 500;
inline constexpr std::size_t max_actor_id_bytes = 256;
inline constexpr std::size_t max_eligible = 100000;

struct poll_request {
  std::string title;
  std::vector<std::string> choices;
  std::vector<std::string> eligible_actors;               // empty: anyone may vote
  privacy::policy privacy = privacy::policy::defaults();  // each part omitted keeps its default
  std::optional<std::chrono::system_clock::time_point> closes_at;
  /// Default: tokens for a poll with eligible actors, open without.
  catalog::voter_auth voter_auth = catalog::voter_auth::open;
  catalog::results_visibility results_visibility = catalog::results_visibility::admin;
};

struct vote_request {
  std::optional<std::string> actor_id;  // required for open polls; with a token or JWT it must match
  std::string choice;
};

/// 415 unless the Content-Type is application/json (parameters allowed).
void require_json(std::optional<std::string_view> content_type);

/// 400 for malformed JSON, wrong types, unknown fields or invalid values.
poll_request parse_poll_request(std::string_view body);
vote_request parse_vote_request(std::string_view body);

/// RFC 3339 date-time ("2026-11-23T12:00:00Z", offsets and fractions allowed).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);
std::string format_rfc3339(std::chrono::system_clock::time_point t);

}  // namespace splitvote::ingest
