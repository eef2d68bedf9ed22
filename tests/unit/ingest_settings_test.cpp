#include "splitvote/config/settings.hpp"
#include "splitvote/config/shared_keys.hpp"
#include "splitvote/ingest/properties.hpp"
#include "splitvote/ingest/settings.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace splitvote;

namespace {
const std::string required =
    "catalog: {dsn: postgresql://c}\npollbook: {dsn: postgresql://p}\nballotbox: {dsn: postgresql://b}\n"
    "kafka: {bootstrap_servers: 'localhost:9092'}\nprivacy: {actor_secret: 0123456789abcdef}\nweb: {root: 'off'}\n";

config::settings parse(const std::string& yaml) {
  return config::settings::parse(ingest::properties(), yaml, config::kafka_passthrough());
}
}  // namespace

TEST_CASE("ingest's settings: the defaults of docs/operations.md", "[unit]") {
  const auto s = ingest::read_settings(parse(required));
  CHECK(s.http.address == "127.0.0.1");
  CHECK(s.http.port == 8080);
  CHECK(s.http.threads == 2);
  CHECK(s.http.max_in_flight == 1000);
  CHECK(s.http.read_timeout == std::chrono::milliseconds(10000));
  CHECK(s.http.rate_limit_max_keys == 100000);
  CHECK(s.api.worker_threads == 8);
  CHECK(s.api.request_timeout == std::chrono::milliseconds(5000));
  CHECK(s.api.answer_deadline == std::chrono::milliseconds(5000));
  CHECK(s.api.token_key == "0123456789abcdef");  // empty auth.token_secret: the actor secret
  CHECK(!s.api.jwt);
  CHECK(s.pool_size == 8);
  CHECK(s.limits.statement_timeout == std::chrono::milliseconds(3000));
  CHECK(s.kafka.at("bootstrap.servers") == "localhost:9092");
  CHECK(s.kafka.at("message.timeout.ms") == "0");
  CHECK(s.kafka.at("queue.buffering.max.messages") == "10000");
  CHECK(s.shred_after == std::chrono::milliseconds(604800000));
  CHECK(s.drain_timeout == std::chrono::milliseconds(15000));
  CHECK(!s.web_root);
}

TEST_CASE("ingest's settings: every bad value is named at once, at load", "[unit]") {
  try {
    parse(required +
          "http: {port: 70000, threads: 0, trusted_proxies: [proxy.internal], cors: {allowed_origins: ['*']}}\n"
          "db: {pool_size: 300}\nauth: {token_secret: short, jwt: {max_token_bytes: 8000}}\n");
    FAIL("expected an error");
  } catch (const config::error& e) {
    const std::string what = e.what();
    INFO(what);
    for (const char* problem :
         {"http.port: 70000 is outside [0, 65535]", "http.threads: 0 is outside [1, 64]",
          "http.trusted_proxies: 'proxy.internal' is not an address or a network",
          "http.cors.allowed_origins: '*' is not an origin", "db.pool_size: 300 is outside [1, 256]",
          "auth.token_secret: must be at least 16 bytes (or empty: the actor secret)",
          "auth.jwt.max_token_bytes: 8000 is outside [256, 7168]"})
      CHECK(what.find(std::string("\n  ") + problem) != std::string::npos);
  }
}

TEST_CASE("ingest's settings: checks across keys are config errors", "[unit]") {
  CHECK_THROWS_WITH(ingest::read_settings(parse(required + "http: {tls: {certificate_chain: cert.pem}}\n")),
                    Catch::Contains("http.tls: set both certificate_chain and private_key, or neither"));
  CHECK_THROWS_AS(ingest::read_settings(parse(required + "auth: {jwt: {algorithms: [none]}}\n")), config::error);
}
