#include "splitvote/http/cors.hpp"

#include <boost/algorithm/string/predicate.hpp>

#include <algorithm>

namespace splitvote::http {

namespace {
/// What a browser may send cross-origin beyond the CORS-safelisted headers.
constexpr const char* allowed_request_headers = "Authorization, Content-Type, X-Request-Id";
/// What a page may read from a response beyond the safelisted ones.
constexpr const char* exposed_headers = "Retry-After, X-Request-Id, Location";
}  // namespace

cors_policy::cors_policy(std::vector<std::string> allowed_origins, std::chrono::seconds max_age)
    : origins_(std::move(allowed_origins)), max_age_(max_age) {
  // A trailing slash is never part of a browser's Origin: "https://a.example/" means "https://a.example".
  for (auto& o : origins_)
    while (o.ends_with('/')) o.pop_back();
  std::erase_if(origins_, [](const std::string& o) { return o.empty(); });
}

bool cors_policy::allows(std::string_view origin) const {
  // Scheme and host are case-insensitive, and browsers send them lower-case.
  return std::any_of(origins_.begin(), origins_.end(),
                     [&](const std::string& o) { return boost::algorithm::iequals(o, origin); });
}

std::optional<header_list> cors_policy::preflight(std::string_view origin, std::string_view requested_method,
                                                  const std::vector<std::string>& methods) const {
  if (!allows(origin)) return std::nullopt;
  if (std::find(methods.begin(), methods.end(), requested_method) == methods.end()) return std::nullopt;
  std::string allow;
  for (const auto& m : methods) allow += (allow.empty() ? "" : ", ") + m;
  return header_list{{"Access-Control-Allow-Origin", std::string(origin)},
                     {"Access-Control-Allow-Methods", allow},
                     {"Access-Control-Allow-Headers", allowed_request_headers},
                     {"Access-Control-Max-Age", std::to_string(max_age_.count())},
                     {"Vary", "Origin"}};
}

header_list cors_policy::for_response(std::optional<std::string_view> origin) const {
  if (!enabled()) return {};
  header_list out{{"Vary", "Origin"}};
  if (origin && allows(*origin)) {
    out.emplace_back("Access-Control-Allow-Origin", std::string(*origin));
    out.emplace_back("Access-Control-Expose-Headers", exposed_headers);
  }
  return out;
}

header_list security_headers(bool tls) {
  header_list out{{"X-Content-Type-Options", "nosniff"},
                  {"Referrer-Policy", "no-referrer"},
                  {"X-Frame-Options", "DENY"},
                  {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
                  {"Cache-Control", "no-store"}};
  if (tls) out.emplace_back("Strict-Transport-Security", "max-age=31536000");
  return out;
}

void add_missing(header_list& headers, const header_list& extra) {
  for (const auto& [name, value] : extra) {
    const bool present = std::any_of(headers.begin(), headers.end(), [&, &name = name](const auto& h) {
      return boost::algorithm::iequals(h.first, name);
    });
    if (!present) headers.emplace_back(name, value);
  }
}

}  // namespace splitvote::http
