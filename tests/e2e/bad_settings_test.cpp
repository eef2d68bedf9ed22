// End to end: settings ingest cannot serve with stop it at start, with status 2 and the key's name.
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/process.hpp"
#include "splitvote/testing/stack.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

using namespace splitvote::testing;
using namespace std::chrono_literals;

TEST_CASE("bad proxy, CORS, TLS and JWT settings stop ingest at start with status 2 and the key's name",
          "[e2e][bad-settings]") {
  const auto dir = temp_dir("e2e-bad-abuse-config");
  const std::map<std::string, std::string> base{{"SPLITVOTE_CATALOG__DSN", "postgresql://nobody@127.0.0.1:1/x"},
                                                {"SPLITVOTE_POLLBOOK__DSN", "postgresql://nobody@127.0.0.1:1/x"},
                                                {"SPLITVOTE_BALLOTBOX__DSN", "postgresql://nobody@127.0.0.1:1/x"},
                                                {"SPLITVOTE_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1"},
                                                {"SPLITVOTE_PRIVACY__ACTOR_SECRET", stack::actor_secret}};
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases{
      {{{"SPLITVOTE_HTTP__TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"}}, "http.trusted_proxies: 'proxy.internal'"},
      {{{"SPLITVOTE_HTTP__CORS__ALLOWED_ORIGINS", "*"}}, "http.cors.allowed_origins: '*'"},
      {{{"SPLITVOTE_HTTP__TLS__CERTIFICATE_CHAIN", (dir / "cert.pem").string()}}, "http.tls: set both"},
      {{{"SPLITVOTE_HTTP__RATE_LIMIT__CLIENT_PER_SECOND", "-1"}}, "http.rate_limit.client_per_second"},
      {{{"SPLITVOTE_AUTH__JWT__ALGORITHMS", "none"},
        {"SPLITVOTE_AUTH__JWT__ISSUER", "i"},
        {"SPLITVOTE_AUTH__JWT__AUDIENCE", "a"}},
       "auth.jwt: "},
      {{{"SPLITVOTE_AUTH__JWT__ALGORITHMS", "RS256"},
        {"SPLITVOTE_AUTH__JWT__ISSUER", "i"},
        {"SPLITVOTE_AUTH__JWT__AUDIENCE", "a"}},
       "auth.jwt: "},  // RS256 without a JWKS
      {{{"SPLITVOTE_AUTH__JWT__ALGORITHMS", "HS256"},
        {"SPLITVOTE_AUTH__JWT__HS256_SECRET", "short"},
        {"SPLITVOTE_AUTH__JWT__ISSUER", "i"},
        {"SPLITVOTE_AUTH__JWT__AUDIENCE", "a"}},
       "auth.jwt: "},
      {{{"SPLITVOTE_AUTH__JWT__ALGORITHMS", "RS256"},
        {"SPLITVOTE_AUTH__JWT__JWKS_FILE", (dir / "missing.json").string()}},
       "auth.jwt.jwks_file: cannot read"},
  };
  int n = 0;
  for (const auto& [extra, message] : cases) {
    auto env = base;
    for (const auto& [k, v] : extra) env[k] = v;
    const auto log = dir / ("ingest-" + std::to_string(n++) + ".log");
    child_process ingest(binary("splitvote-ingest"), {}, env, log);
    INFO(message);
    CHECK(ingest.wait(10s) == 2);
    const std::string text = read_file(log);
    INFO(text);
    CHECK(text.find(message) != std::string::npos);
  }
}
