#include "splitvote/ingest/requests.hpp"

#include "splitvote/ingest/problems.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <set>

namespace splitvote::ingest {
namespace json = boost::json;

namespace {

[[noreturn]] void bad(const std::string& detail) { throw problems::invalid_request(detail); }

/// Finds a key repeated within one object. Boost.JSON's parse() keeps one of the values
/// silently; which one a client meant is unknowable, so such a body is refused.
class duplicate_key_finder {
public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  using error_code = boost::system::error_code;
  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t, error_code&) { return true; }
  bool on_object_begin(error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    keys_.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, error_code& ec) {
    key_.append(s.data(), s.size());
    if (!keys_.back().insert(key_).second) {
      duplicate = std::move(key_);
      ec = json::error::syntax;  // stops the parse: one duplicate is enough
      return false;
    }
    key_.clear();
    return true;
  }
  bool on_number_part(json::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, error_code&) { return true; }
  bool on_double(double, json::string_view, error_code&) { return true; }
  bool on_bool(bool, error_code&) { return true; }
  bool on_null(error_code&) { return true; }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }

  std::optional<std::string> duplicate;

private:
  std::vector<std::set<std::string>> keys_;
  std::string key_;
};

std::optional<std::string> duplicate_key(std::string_view body) {
  json::basic_parser<duplicate_key_finder> p{json::parse_options{}};
  boost::system::error_code ec;
  p.write_some(false, body.data(), body.size(), ec);
  return std::move(p.handler().duplicate);
}

json::object parse_object(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) bad("the body is not valid JSON: " + ec.message());
  if (auto key = duplicate_key(body))
    bad(key->size() <= 64 ? "the key '" + *key + "' appears twice in one object" : "a key appears twice in one object");
  if (!v.is_object()) bad("the body must be a JSON object");
  return std::move(v.as_object());
}

void only_fields(const json::object& o, std::initializer_list<std::string_view> allowed, const std::string& where) {
  for (const auto& kv : o)
    if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end())
      bad(where + "unknown field '" + std::string(kv.key()) + "'");
}

std::string string_field(const json::object& o, std::string_view key, std::size_t max_bytes, const std::string& where) {
  const auto* v = o.if_contains(key);
  if (!v) bad(where + std::string(key) + " is required");
  if (!v->is_string()) bad(where + std::string(key) + " must be a string");
  const auto& s = v->get_string();
  if (s.empty()) bad(where + std::string(key) + " must not be empty");
  if (s.size() > max_bytes) bad(where + std::string(key) + " must be at most " + std::to_string(max_bytes) + " bytes");
  return std::string(s);
}

std::uint32_t count_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) bad("privacy.decoys." + std::string(key) + " is required for this distribution");
  if (v->is_int64() && v->get_int64() >= 0 && v->get_int64() <= 1000000)
    return static_cast<std::uint32_t>(v->get_int64());
  if (v->is_uint64() && v->get_uint64() <= 1000000) return static_cast<std::uint32_t>(v->get_uint64());
  bad("privacy.decoys." + std::string(key) + " must be a non-negative integer");
}

privacy::decoy_spec parse_decoys(const json::value& v) {
  if (!v.is_object()) bad("privacy.decoys must be an object");
  const auto& o = v.get_object();
  only_fields(o, {"distribution", "k", "min", "max", "mean", "cap"}, "privacy.decoys: ");
  privacy::decoy_spec spec;
  try {
    spec.distribution = privacy::parse_decoy_distribution(string_field(o, "distribution", 16, "privacy.decoys."));
  } catch (const std::invalid_argument& e) {
    bad(std::string("privacy.") + e.what());
  }
  switch (spec.distribution) {
    case privacy::decoy_distribution::none:
      break;
    case privacy::decoy_distribution::fixed:
      spec.k = count_field(o, "k");
      break;
    case privacy::decoy_distribution::uniform:
      spec.min = count_field(o, "min");
      spec.max = count_field(o, "max");
      break;
    case privacy::decoy_distribution::poisson: {
      const auto* mean = o.if_contains("mean");
      if (!mean || !(mean->is_number())) bad("privacy.decoys.mean must be a number");
      spec.mean = mean->to_number<double>();
      spec.cap = count_field(o, "cap");
      break;
    }
  }
  try {
    spec.validate();
  } catch (const std::invalid_argument& e) {
    bad(std::string("privacy.") + e.what());
  }
  return spec;
}

double number_field(const json::object& o, std::string_view key, const std::string& where) {
  const auto* v = o.if_contains(key);
  if (!v) bad(where + std::string(key) + " is required");
  if (!v->is_number()) bad(where + std::string(key) + " must be a number");
  return v->to_number<double>();
}

privacy::randomized_response_spec parse_randomized_response(const json::value& v) {
  if (!v.is_object()) bad("privacy.randomized_response must be an object");
  only_fields(v.get_object(), {"p"}, "privacy.randomized_response: ");
  privacy::randomized_response_spec rr{number_field(v.get_object(), "p", "privacy.randomized_response.")};
  try {
    rr.validate();
  } catch (const std::invalid_argument& e) {
    bad(std::string("privacy.") + e.what());
  }
  return rr;
}

void parse_release_noise(const json::value& v, privacy::policy& policy) {
  if (!v.is_object()) bad("privacy.release_noise must be an object");
  const auto& o = v.get_object();
  only_fields(o, {"mechanism", "epsilon", "delta", "budget"}, "privacy.release_noise: ");
  privacy::release_noise_spec noise;
  try {
    noise.mechanism = privacy::parse_noise_mechanism(string_field(o, "mechanism", 32, "privacy.release_noise."));
  } catch (const std::invalid_argument& e) {
    bad(std::string("privacy.") + e.what());
  }
  if (noise.mechanism != privacy::noise_mechanism::none)
    noise.epsilon = number_field(o, "epsilon", "privacy.release_noise.");
  if (noise.mechanism == privacy::noise_mechanism::discrete_gaussian)
    noise.delta = number_field(o, "delta", "privacy.release_noise.");
  try {
    noise.validate();
  } catch (const std::invalid_argument& e) {
    bad(std::string("privacy.") + e.what());
  }
  policy.noise = noise;
  // Without a budget, room for ten releases.
  policy.budget =
      o.contains("budget") ? number_field(o, "budget", "privacy.release_noise.") : 10 * policy.release_cost();
  if (noise.mechanism == privacy::noise_mechanism::none) policy.budget = 0;
}

}  // namespace

void require_json(std::optional<std::string_view> content_type) {
  if (content_type) {
    const auto semi = content_type->find(';');
    std::string mime(content_type->substr(0, semi));
    std::transform(mime.begin(), mime.end(), mime.begin(), [](unsigned char c) { return std::tolower(c); });
    while (!mime.empty() && mime.back() == ' ') mime.pop_back();
    if (mime == "application/json") return;
  }
  throw problems::unsupported_media_type("send the body as application/json");
}

poll_request parse_poll_request(std::string_view body) {
  const json::object o = parse_object(body);
  only_fields(o, {"title", "choices", "eligible_actors", "privacy", "closes_at", "voter_auth", "results_visibility"},
              "");
  poll_request r;
  r.title = string_field(o, "title", max_title_bytes, "");

  const auto* choices = o.if_contains("choices");
  if (!choices || !choices->is_array()) bad("choices must be an array of strings");
  std::set<std::string> seen;
  for (const auto& c : choices->get_array()) {
    if (!c.is_string() || c.get_string().empty() || c.get_string().size() > max_label_bytes)
      bad("each choice must be a non-empty string of at most 200 bytes");
    std::string label(c.get_string());
    if (!seen.insert(label).second) bad("choices must be distinct; '" + label + "' repeats");
    r.choices.push_back(std::move(label));
  }
  if (r.choices.size() < 2 || r.choices.size() > max_choices) bad("a poll needs 2 to 64 choices");

  if (const auto* eligible = o.if_contains("eligible_actors")) {
    if (!eligible->is_array()) bad("eligible_actors must be an array of strings");
    std::set<std::string> actors;
    for (const auto& a : eligible->get_array()) {
      if (!a.is_string() || a.get_string().empty() || a.get_string().size() > max_actor_id_bytes)
        bad("each eligible actor must be a non-empty string of at most 256 bytes");
      actors.emplace(a.get_string());
    }
    if (actors.size() > max_eligible) bad("at most 100000 eligible actors");
    r.eligible_actors.assign(actors.begin(), actors.end());
  }

  if (const auto* priv = o.if_contains("privacy")) {
    if (!priv->is_object()) bad("privacy must be an object");
    const auto& po = priv->get_object();
    only_fields(po, {"decoys", "randomized_response", "release_noise"}, "privacy: ");
    if (const auto* d = po.if_contains("decoys")) r.privacy.decoys = parse_decoys(*d);
    if (const auto* rr = po.if_contains("randomized_response")) r.privacy.rr = parse_randomized_response(*rr);
    if (const auto* n = po.if_contains("release_noise")) parse_release_noise(*n, r.privacy);
    try {
      r.privacy.validate();
    } catch (const std::invalid_argument& e) {
      bad(std::string("privacy.") + e.what());
    }
  }

  if (const auto* closes = o.if_contains("closes_at")) {
    if (!closes->is_string()) bad("closes_at must be an RFC 3339 date-time string");
    r.closes_at = parse_rfc3339(closes->get_string());
    if (!r.closes_at) bad("closes_at must be an RFC 3339 date-time such as 2030-01-31T18:00:00Z");
    if (*r.closes_at <= std::chrono::system_clock::now()) bad("closes_at must be in the future");
  }

  r.voter_auth = r.eligible_actors.empty() ? catalog::voter_auth::open : catalog::voter_auth::tokens;
  if (const auto* auth = o.if_contains("voter_auth")) {
    if (!auth->is_object()) bad("voter_auth must be an object such as {\"mode\": \"tokens\"}");
    only_fields(auth->get_object(), {"mode"}, "voter_auth: ");
    const auto* mode = auth->get_object().if_contains("mode");
    const auto parsed = mode && mode->is_string() ? catalog::parse_voter_auth(mode->get_string()) : std::nullopt;
    if (!parsed) bad("voter_auth.mode must be \"open\", \"tokens\" or \"jwt\"");
    r.voter_auth = *parsed;
  }
  if (r.voter_auth == catalog::voter_auth::tokens && r.eligible_actors.empty())
    bad("voter_auth.mode \"tokens\" needs eligible_actors: each of them gets a voting token");
  if (const auto* vis = o.if_contains("results_visibility")) {
    const auto parsed = vis->is_string() ? catalog::parse_results_visibility(vis->get_string()) : std::nullopt;
    if (!parsed) bad("results_visibility must be \"admin\" or \"public\"");
    r.results_visibility = *parsed;
  }
  return r;
}

vote_request parse_vote_request(std::string_view body) {
  const json::object o = parse_object(body);
  only_fields(o, {"actor_id", "choice"}, "");
  vote_request v;
  if (o.contains("actor_id")) v.actor_id = string_field(o, "actor_id", max_actor_id_bytes, "");
  v.choice = string_field(o, "choice", max_label_bytes, "");
  return v;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  // Standard C++20 has std::chrono::parse, but GCC 12's library does not ship it yet.
  const std::string s(text);
  // sscanf's %d also takes signs and leading blanks ("-1", " 1"): the digits are checked first.
  static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd";
  if (s.size() < shape.size()) return std::nullopt;
  for (std::size_t k = 0; k < shape.size(); ++k)
    if (shape[k] == 'd' && !std::isdigit(static_cast<unsigned char>(s[k]))) return std::nullopt;
  int year, month, day, hour, minute, second, consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second,
                  &consumed) != 6 ||
      consumed != 19)
    return std::nullopt;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  int offset_minutes = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh = 0, om = 0;
    if (!std::isdigit(static_cast<unsigned char>(s[i + 1])) || !std::isdigit(static_cast<unsigned char>(s[i + 2])) ||
        !std::isdigit(static_cast<unsigned char>(s[i + 4])) || !std::isdigit(static_cast<unsigned char>(s[i + 5])) ||
        std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59)
      return std::nullopt;
    offset_minutes = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  if (tm.tm_mday != day) return std::nullopt;  // 31 February and friends
  // system_clock counts nanoseconds in libstdc++: it ends in 2262, and from_time_t past that
  // overflows (found by tests/fuzz/requests_fuzz.cpp). A day's margin covers the offset.
  constexpr auto last =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::duration::max()).count() - 86400;
  if (t > last || t < -last) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t) - std::chrono::minutes(offset_minutes);
}

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace splitvote::ingest
