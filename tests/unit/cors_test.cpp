#include "splitvote/http/cors.hpp"

#include <catch2/catch.hpp>

using namespace splitvote::http;

namespace {
std::optional<std::string> find(const header_list& h, const std::string& name) {
  for (const auto& [k, v] : h)
    if (k == name) return v;
  return std::nullopt;
}
}  // namespace

TEST_CASE("a preflight is allowed only for a configured origin and a method of the resource", "[unit]") {
  const cors_policy cors({"https://app.example", "http://localhost:3000/"}, std::chrono::seconds(300));
  const std::vector<std::string> methods{"POST"};

  const auto ok = cors.preflight("https://app.example", "POST", methods);
  REQUIRE(ok);
  CHECK(find(*ok, "Access-Control-Allow-Origin") == "https://app.example");
  CHECK(find(*ok, "Access-Control-Allow-Methods") == "POST");
  CHECK(find(*ok, "Access-Control-Allow-Headers")->find("Content-Type") != std::string::npos);
  CHECK(find(*ok, "Access-Control-Allow-Headers")->find("Authorization") != std::string::npos);
  CHECK(find(*ok, "Access-Control-Max-Age") == "300");
  CHECK(find(*ok, "Vary") == "Origin");
  CHECK_FALSE(find(*ok, "Access-Control-Allow-Credentials"));

  CHECK(cors.preflight("http://localhost:3000", "POST", methods));  // the configured trailing slash is ignored
  CHECK_FALSE(cors.preflight("https://evil.example", "POST", methods));
  CHECK_FALSE(cors.preflight("https://app.example.evil.example", "POST", methods));
  CHECK_FALSE(cors.preflight("https://app.example:444", "POST", methods));
  CHECK_FALSE(cors.preflight("http://app.example", "POST", methods));  // the scheme counts
  CHECK_FALSE(cors.preflight("null", "POST", methods));
  CHECK_FALSE(cors.preflight("https://app.example", "DELETE", methods));
  CHECK_FALSE(cors_policy().preflight("https://app.example", "POST", methods));  // none configured
}

TEST_CASE("ordinary responses name an allowed origin only, and vary on Origin", "[unit]") {
  const cors_policy cors({"https://app.example"});
  const auto allowed = cors.for_response("https://app.example");
  CHECK(find(allowed, "Access-Control-Allow-Origin") == "https://app.example");
  CHECK(find(allowed, "Access-Control-Expose-Headers")->find("Retry-After") != std::string::npos);
  CHECK(find(allowed, "Vary") == "Origin");
  const auto other = cors.for_response("https://evil.example");
  CHECK_FALSE(find(other, "Access-Control-Allow-Origin"));
  CHECK(find(other, "Vary") == "Origin");
  CHECK_FALSE(find(cors.for_response(std::nullopt), "Access-Control-Allow-Origin"));
  CHECK(cors_policy().for_response("https://app.example").empty());  // CORS off: nothing at all
}

TEST_CASE("security headers never clobber what a handler set", "[unit]") {
  header_list page{{"content-security-policy", "default-src 'self'"}, {"Cache-Control", "max-age=60"}};
  add_missing(page, security_headers(false));
  CHECK(find(page, "content-security-policy") == "default-src 'self'");
  CHECK_FALSE(find(page, "Content-Security-Policy"));
  CHECK(find(page, "Cache-Control") == "max-age=60");
  CHECK(find(page, "X-Content-Type-Options") == "nosniff");
  CHECK(find(page, "Referrer-Policy") == "no-referrer");
  CHECK(find(page, "X-Frame-Options") == "DENY");
  CHECK_FALSE(find(page, "Strict-Transport-Security"));

  header_list api;
  add_missing(api, security_headers(true));
  CHECK(find(api, "Cache-Control") == "no-store");
  CHECK(find(api, "Content-Security-Policy")->find("frame-ancestors 'none'") != std::string::npos);
  CHECK(find(api, "Strict-Transport-Security")->starts_with("max-age="));
}
