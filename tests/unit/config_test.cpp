#include "splitvote/config/settings.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace splitvote::config;

namespace {
std::string write_yaml(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("splitvote-config-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

const std::vector<property> schema = {
    {"http.port", "port", "8080"},
    {"db.dsn", "dsn", std::nullopt, true},
    {"batch.max", "max", "500"},
};
}  // namespace

TEST_CASE("YAML values, defaults and environment overrides", "[unit]") {
  const auto path = write_yaml("http:\n  port: 9090\ndb:\n  dsn: postgresql://x\n");
  ::setenv("SPLITVOTE_BATCH__MAX", "42", 1);
  const auto s = settings::load(schema, path);
  ::unsetenv("SPLITVOTE_BATCH__MAX");
  CHECK(s.integer("http.port", 0, 65535) == 9090);
  CHECK(s.integer("batch.max", 1, 1000) == 42);
  CHECK(s.str("db.dsn") == "postgresql://x");
  CHECK(s.describe().find("postgresql://x") == std::string::npos);  // secrets masked
}

TEST_CASE("configuration errors name every problem", "[unit]") {
  const auto path = write_yaml("http:\n  prot: 9090\n");
  try {
    settings::load(schema, path);
    FAIL("expected an error");
  } catch (const error& e) {
    const std::string what = e.what();
    CHECK(what.find("http.prot: unknown setting") != std::string::npos);
    CHECK(what.find("db.dsn: required") != std::string::npos);
  }
  const auto ok = write_yaml("db:\n  dsn: x\nhttp:\n  port: eighty\n");
  const auto s = settings::load(schema, ok);
  CHECK_THROWS_AS(s.integer("http.port", 0, 65535), error);
  CHECK_THROWS_AS(settings::load(schema, write_yaml("db: [1, 2")), error);
}

TEST_CASE("pass-through keys are kept with their prefix removed", "[unit]") {
  const auto path = write_yaml("db:\n  dsn: x\nkafka:\n  rdkafka:\n    linger.ms: 5\n    ssl.key.pem: PRIVATE\n");
  const auto s = settings::load(schema, path, {"kafka.rdkafka."});
  CHECK(s.with_prefix("kafka.rdkafka.").at("linger.ms") == "5");
  CHECK(s.describe().find("PRIVATE") == std::string::npos);  // credentials are masked
}

TEST_CASE("parse reads YAML text and leaves the environment out", "[unit]") {
  ::setenv("SPLITVOTE_BATCH__MAX", "42", 1);
  const auto s = settings::parse(schema, "db:\n  dsn: x\nhttp:\n  port: 9090\n");
  ::unsetenv("SPLITVOTE_BATCH__MAX");
  CHECK(s.integer("http.port", 0, 65535) == 9090);
  CHECK(s.integer("batch.max", 1, 1000) == 500);
  CHECK_THROWS_AS(settings::parse(schema, "db: [1, 2"), error);
}

// Found by tests/fuzz/config_fuzz.cpp: flatten followed the alias into itself until the stack overflowed.
TEST_CASE("an alias that contains itself is an error, not a stack overflow", "[unit]") {
  try {
    settings::parse(schema, "&a {x: *a}\n");
    FAIL("expected an error");
  } catch (const error& e) {
    CHECK(std::string(e.what()).find("nested too deeply") != std::string::npos);
  }
  CHECK_THROWS_AS(settings::load(schema, write_yaml("db: &a\n  dsn: *a\n")), error);
}

TEST_CASE("aliases of aliases cannot expand a config exponentially", "[unit]") {
  std::string yaml = "a0: &a0 {k: v}\n";
  for (int i = 1; i < 40; ++i)
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " {x: *a" + std::to_string(i - 1) +
            ", y: *a" + std::to_string(i - 1) + "}\n";
  CHECK_THROWS_AS(settings::parse(schema, yaml), error);
}

TEST_CASE("lists come as YAML sequences or comma-separated text from the environment", "[unit]") {
  const std::vector<property> with_list = {{"http.cors.allowed_origins", "origins", ""}};
  CHECK(settings::parse(with_list, "").list("http.cors.allowed_origins").empty());
  const auto yaml = settings::parse(with_list, "http:\n  cors:\n    allowed_origins: [https://a.example, 'https://b.example:8443']\n");
  CHECK(yaml.list("http.cors.allowed_origins") == std::vector<std::string>{"https://a.example", "https://b.example:8443"});
  const auto path = write_yaml("");
  ::setenv("SPLITVOTE_HTTP__CORS__ALLOWED_ORIGINS", " https://a.example , ,https://c.example", 1);
  const auto env = settings::load(with_list, path);
  ::unsetenv("SPLITVOTE_HTTP__CORS__ALLOWED_ORIGINS");
  CHECK(env.list("http.cors.allowed_origins") == std::vector<std::string>{"https://a.example", "https://c.example"});
  // A list of maps, or an item with a comma, is refused rather than misread.
  CHECK_THROWS_WITH(settings::parse(with_list, "http:\n  cors:\n    allowed_origins: [{a: 1}]\n"),
                    Catch::Contains("list of scalars"));
  CHECK_THROWS_WITH(settings::parse(with_list, "http:\n  cors:\n    allowed_origins: ['a,b']\n"),
                    Catch::Contains("list of scalars"));
}
