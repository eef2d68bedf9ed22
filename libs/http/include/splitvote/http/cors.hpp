// CORS for configured origins only, and the security headers every response carries.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace splitvote::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// Which browser origins may call the API from their pages. Exact matches of
/// scheme://host[:port] as browsers send them in `Origin`; no wildcards, no credentials
/// (the API authenticates with bearer tokens, not cookies).
class cors_policy {
public:
  cors_policy() = default;
  explicit cors_policy(std::vector<std::string> allowed_origins,
                       std::chrono::seconds max_age = std::chrono::seconds(600));

  bool enabled() const { return !origins_.empty(); }
  bool allows(std::string_view origin) const;

  /// A preflight (OPTIONS with Origin and Access-Control-Request-Method) for a resource
  /// allowing `methods`: the headers of a 204 when the origin and the method are allowed,
  /// nullopt when the preflight is refused (no Access-Control-Allow-Origin then).
  std::optional<header_list> preflight(std::string_view origin, std::string_view requested_method,
                                       const std::vector<std::string>& methods) const;

  /// The headers an ordinary response to `origin` (absent: none sent) gets: ACAO and
  /// Expose-Headers when allowed, and `Vary: Origin` whenever CORS is on.
  header_list for_response(std::optional<std::string_view> origin) const;

private:
  std::vector<std::string> origins_;
  std::chrono::seconds max_age_{600};
};

/// Headers every response gets unless its handler set the same header already (a UI page sets
/// its own Content-Security-Policy and Cache-Control): nosniff, no referrer, no framing,
/// no caching, and HSTS when served over TLS.
header_list security_headers(bool tls);

/// Adds each of `extra` to `headers` unless a header of that name (any case) is there.
void add_missing(header_list& headers, const header_list& extra);

}  // namespace splitvote::http
