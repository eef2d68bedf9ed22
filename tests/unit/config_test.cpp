#include "splitvote/config/settings.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace splitvote::config;

namespace {
std::string write_yaml(const std::string& text) {
  const auto path =
      std::filesystem::temp_directory_path() / ("splitvote-config-" + std::to_string(::getpid()) + ".yaml");
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
    // Appended piece by piece: "a" + std::to_string(i) trips GCC 12's false -Wrestrict at -O3
    // (GCC bug 105329).
    yaml.append("a")
        .append(std::to_string(i))
        .append(": &a")
        .append(std::to_string(i))
        .append(" {x: *a")
        .append(std::to_string(i - 1))
        .append(", y: *a")
        .append(std::to_string(i - 1))
        .append("}\n");
  CHECK_THROWS_AS(settings::parse(schema, yaml), error);
}

TEST_CASE("lists come as YAML sequences or comma-separated text from the environment", "[unit]") {
  const std::vector<property> with_list = {{"http.cors.allowed_origins", "origins", ""}};
  CHECK(settings::parse(with_list, "").list("http.cors.allowed_origins").empty());
  const auto yaml = settings::parse(
      with_list, "http:\n  cors:\n    allowed_origins: [https://a.example, 'https://b.example:8443']\n");
  CHECK(yaml.list("http.cors.allowed_origins") ==
        std::vector<std::string>{"https://a.example", "https://b.example:8443"});
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

namespace {
std::string write_secret(const std::string& name, const std::string& content) {
  const auto path =
      std::filesystem::temp_directory_path() / ("splitvote-secret-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

const std::vector<property> with_secret = {
    {"privacy.actor_secret", "secret", std::nullopt, true},
    {"http.port", "port", "8080"},
};
}  // namespace

TEST_CASE("a secret comes from the file SPLITVOTE_<KEY>_FILE names", "[unit]") {
  const auto file = write_secret("env", "from-env-file\n");
  ::setenv("SPLITVOTE_PRIVACY__ACTOR_SECRET_FILE", file.c_str(), 1);
  const auto s = settings::load(with_secret, write_yaml(""));
  CHECK(s.str("privacy.actor_secret") == "from-env-file");
  // The environment's file beats the YAML's value; the environment's value beats both.
  CHECK(settings::load(with_secret, write_yaml("privacy:\n  actor_secret: from-yaml\n")).str("privacy.actor_secret") ==
        "from-env-file");
  ::setenv("SPLITVOTE_PRIVACY__ACTOR_SECRET", "from-env", 1);
  const auto both = [&] { return settings::load(with_secret, write_yaml("")); };
  CHECK_THROWS_WITH(both(),
                    Catch::Contains("SPLITVOTE_PRIVACY__ACTOR_SECRET and SPLITVOTE_PRIVACY__ACTOR_SECRET_FILE"));
  ::unsetenv("SPLITVOTE_PRIVACY__ACTOR_SECRET_FILE");
  CHECK(settings::load(with_secret, write_yaml("privacy:\n  actor_secret_file: /nonexistent\n"))
            .str("privacy.actor_secret") == "from-env");
  ::unsetenv("SPLITVOTE_PRIVACY__ACTOR_SECRET");
}

TEST_CASE("a secret comes from the file <key>_file names in the YAML", "[unit]") {
  const auto file = write_secret("yaml", "from-yaml-file\r\n");
  const auto s = settings::parse(with_secret, "privacy:\n  actor_secret_file: " + file + "\n");
  CHECK(s.str("privacy.actor_secret") == "from-yaml-file");  // "\r\n" trimmed
  // Only one trailing newline goes; other whitespace is part of the secret.
  CHECK(settings::parse(with_secret, "privacy:\n  actor_secret_file: " + write_secret("two", " a b \n\n") + "\n")
            .str("privacy.actor_secret") == " a b \n");
  CHECK(settings::parse(with_secret, "privacy:\n  actor_secret_file: " + write_secret("none", "plain") + "\n")
            .str("privacy.actor_secret") == "plain");
  CHECK(settings::parse(with_secret, "privacy:\n  actor_secret_file: " + write_secret("empty", "") + "\n")
            .str("privacy.actor_secret")
            .empty());
  // The YAML value beats nothing of the environment's: without it, it is used.
  CHECK(settings::parse(with_secret, "privacy:\n  actor_secret: v\n").str("privacy.actor_secret") == "v");
}

TEST_CASE("a value and a file for the same secret in the YAML are an error naming both", "[unit]") {
  const auto file = write_secret("dup", "x\n");
  CHECK_THROWS_WITH(settings::parse(with_secret, "privacy:\n  actor_secret: v\n  actor_secret_file: " + file + "\n"),
                    Catch::Contains("privacy.actor_secret and privacy.actor_secret_file"));
}

TEST_CASE("an unreadable secret file is an error naming the key and the path", "[unit]") {
  const std::string missing = "/nonexistent/splitvote/actor-secret";
  CHECK_THROWS_WITH(settings::parse(with_secret, "privacy:\n  actor_secret_file: " + missing + "\n"),
                    Catch::Contains("privacy.actor_secret: cannot read the file '" + missing + "'"));
  CHECK_THROWS_WITH(settings::parse(with_secret, "privacy:\n  actor_secret_file: " +
                                                     std::filesystem::temp_directory_path().string() + "\n"),
                    Catch::Contains("privacy.actor_secret: cannot read") && Catch::Contains("not a regular file"));
  CHECK_THROWS_WITH(settings::parse(with_secret, "privacy:\n  actor_secret_file: /dev/zero\n"),
                    Catch::Contains("not a regular file"));
  CHECK_THROWS_WITH(settings::parse(with_secret, "privacy:\n  actor_secret_file: " +
                                                     write_secret("big", std::string(64 * 1024 + 1, 'x')) + "\n"),
                    Catch::Contains("larger than 64 KiB"));
  ::setenv("SPLITVOTE_PRIVACY__ACTOR_SECRET_FILE", missing.c_str(), 1);
  try {
    settings::load(with_secret, write_yaml(""));
    FAIL("expected an error");
  } catch (const error& e) {
    CHECK_THAT(std::string(e.what()),
               Catch::Contains(missing) && Catch::Contains("SPLITVOTE_PRIVACY__ACTOR_SECRET_FILE"));
  }
  ::unsetenv("SPLITVOTE_PRIVACY__ACTOR_SECRET_FILE");
}

TEST_CASE("only secrets can be read from a file", "[unit]") {
  const auto file = write_secret("port", "9090\n");
  CHECK_THROWS_WITH(settings::parse(with_secret, "privacy:\n  actor_secret: v\nhttp:\n  port_file: " + file + "\n"),
                    Catch::Contains("http.port_file: unknown setting"));
  ::setenv("SPLITVOTE_PRIVACY__ACTOR_SECRET", "v", 1);
  ::setenv("SPLITVOTE_HTTP__PORT_FILE", file.c_str(), 1);
  CHECK_THROWS_WITH(settings::load(with_secret, write_yaml("")), Catch::Contains("http.port_file: unknown setting"));
  ::unsetenv("SPLITVOTE_HTTP__PORT_FILE");
  ::unsetenv("SPLITVOTE_PRIVACY__ACTOR_SECRET");
}

TEST_CASE("describe masks a secret read from a file and names the file", "[unit]") {
  const auto file = write_secret("describe", "hush-hush-0123456789\n");
  const auto d = settings::parse(with_secret, "privacy:\n  actor_secret_file: " + file + "\n").describe();
  CHECK(d.find("hush-hush") == std::string::npos);
  CHECK(d.find("privacy.actor_secret = **** (from file " + file + ")") != std::string::npos);
  CHECK(d.find("http.port = 8080\n") != std::string::npos);
}

namespace {
const std::vector<property> typed = {
    integer("http.port", "port", 8080, 0, 65535),
    millis("http.read_timeout_ms", "read timeout", 10000, 1, 86400000),
    list("http.trusted_proxies", "proxies").checked([](const std::string& item) -> std::optional<std::string> {
      if (item.find('.') == std::string::npos) return "'" + item + "' is not an address";
      return std::nullopt;
    }),
    secret("privacy.actor_secret", "secret").checked([](const std::string& v) -> std::optional<std::string> {
      if (v.size() < 16) return "must be at least 16 bytes";
      return std::nullopt;
    }),
    text("log.level", "level", "info"),
};
}  // namespace

TEST_CASE("typed properties are read without repeating their bounds", "[unit]") {
  const auto s = settings::parse(typed, "http:\n  port: 9090\nprivacy:\n  actor_secret: 0123456789abcdef\n");
  CHECK(s.integer("http.port") == 9090);
  CHECK(s.integer<unsigned short>("http.port") == 9090);
  CHECK(s.millis("http.read_timeout_ms") == std::chrono::milliseconds(10000));
  CHECK(s.list("http.trusted_proxies").empty());
  CHECK(s.str("log.level") == "info");
  // A key declared as text has no declared bounds.
  CHECK_THROWS_WITH(s.integer("log.level"), Catch::Contains("log.level: not declared as an integer"));
  // A declared integer that does not fit the type asked for.
  const auto wide = settings::parse({integer("big", "big", 70000, 0, 100000)}, "");
  CHECK_THROWS_AS(wide.integer<unsigned short>("big"), error);
}

TEST_CASE("load checks every declared value and reports every problem at once", "[unit]") {
  ::setenv("SPLITVOTE_HTTP__READ_TIMEOUT_MS", "0", 1);
  const auto path = write_yaml(
      "http:\n  port: eighty\n  trusted_proxies: [10.0.0.1, proxy, other]\n  prot: 1\n"
      "privacy:\n  actor_secret: short\n");
  try {
    settings::load(typed, path);
    ::unsetenv("SPLITVOTE_HTTP__READ_TIMEOUT_MS");
    FAIL("expected an error");
  } catch (const error& e) {
    ::unsetenv("SPLITVOTE_HTTP__READ_TIMEOUT_MS");
    const std::string what = e.what();
    INFO(what);
    CHECK(what.rfind("invalid configuration in " + path + ":\n", 0) == 0);
    CHECK(what.find("\n  http.port: expected an integer, got 'eighty'") != std::string::npos);
    CHECK(what.find("\n  http.read_timeout_ms: 0 is outside [1, 86400000]") != std::string::npos);
    CHECK(what.find("\n  http.trusted_proxies: 'proxy' is not an address") != std::string::npos);
    CHECK(what.find("\n  http.trusted_proxies: 'other' is not an address") != std::string::npos);
    CHECK(what.find("\n  privacy.actor_secret: must be at least 16 bytes") != std::string::npos);
    CHECK(what.find("\n  http.prot: unknown setting") != std::string::npos);
    CHECK(what.find("short") == std::string::npos);  // a secret's check never shows the value
  }
  // Bounds apply to defaults too: a declaration error shows at the first load.
  CHECK_THROWS_WITH(settings::parse({integer("n", "n", 5, 6, 7)}, ""), Catch::Contains("n: 5 is outside [6, 7]"));
}
