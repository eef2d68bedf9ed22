// libFuzzer target: the YAML configuration (settings::parse, the file half of settings::load;
// the environment stays out). config::error is the documented answer to a bad file; any other
// exception or a crash is a finding.
#include "splitvote/config/settings.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

using namespace splitvote;

namespace {

// ingest's keys, every one with a default so that valid files get all the way through.
const std::vector<config::property> schema = {
    {"http.address", "address", "127.0.0.1"},
    {"http.port", "port", "8080"},
    {"http.threads", "threads", "2"},
    {"catalog.dsn", "dsn", "postgresql://", true},
    {"db.pool_size", "pool", "8"},
    {"kafka.bootstrap_servers", "servers", "localhost:9092"},
    {"kafka.topic", "topic", "splitvote.votes"},
    {"kafka.delivery_timeout_ms", "timeout", "5000"},
    {"privacy.actor_secret", "secret", "0123456789abcdef", true},
    {"log.level", "level", "info"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  try {
    const auto s = config::settings::parse(schema, yaml, {"kafka.rdkafka."});
    (void)s.describe();
    (void)s.with_prefix("kafka.rdkafka.");
    for (const char* key : {"http.port", "kafka.delivery_timeout_ms"}) {
      try {
        (void)s.integer(key, 0, 65535);
        (void)s.millis(key);
      } catch (const config::error&) {
      }
    }
  } catch (const config::error&) {
  }
  return 0;
}
