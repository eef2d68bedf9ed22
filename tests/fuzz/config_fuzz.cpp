// libFuzzer target: the YAML configuration (settings::parse, the file half of settings::load;
// the environment stays out) with ingest's real property table. config::error is the documented
// answer to a bad file; any other exception or a crash is a finding.
#include "splitvote/config/settings.hpp"
#include "splitvote/config/shared_keys.hpp"
#include "splitvote/ingest/properties.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

using namespace splitvote;

namespace {

/// ingest's keys, the required ones given a default so that valid files get all the way through
/// (16 bytes or more: the actor secret's check passes).
std::vector<config::property> schema() {
  auto properties = ingest::properties();
  for (auto& p : properties)
    if (!p.default_value) p.default_value = "placeholder-0123456789";
  return properties;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto properties = schema();
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  std::optional<config::settings> s;
  try {
    s = config::settings::parse(properties, yaml, config::kafka_passthrough());
  } catch (const config::error&) {
    return 0;
  }
  // Every value passed its checks at parse: no typed read may throw now.
  (void)s->describe();
  (void)config::rdkafka_settings(*s);
  for (const auto& p : properties) {
    if (p.type == config::property::kind::integer) (void)s->integer(p.key);
    if (p.type == config::property::kind::list) (void)s->list(p.key);
  }
  (void)s->millis("kafka.delivery_timeout_ms");
  (void)s->integer<unsigned short>("http.port");
  return 0;
}
