#include "splitvote/config/shared_keys.hpp"

namespace splitvote::config {

std::vector<property> kafka_properties() {
  return {
      text("kafka.bootstrap_servers", "Kafka bootstrap servers", std::nullopt),
      text("kafka.topic", "votes topic", "splitvote.votes"),
  };
}

std::vector<std::string> kafka_passthrough() { return {"kafka.rdkafka."}; }

std::map<std::string, std::string> rdkafka_settings(const settings& cfg) {
  auto out = cfg.with_prefix("kafka.rdkafka.");
  out["bootstrap.servers"] = cfg.str("kafka.bootstrap_servers");
  return out;
}

property log_level() { return text("log.level", "trace, debug, info, warn, error", "info"); }

std::vector<property> http_listen(std::string address_description, std::string port_description,
                                  std::int64_t default_port) {
  return {
      text("http.address", std::move(address_description), "127.0.0.1"),
      integer("http.port", std::move(port_description), default_port, 0, 65535),
  };
}

property statement_timeout(std::string description, std::int64_t default_ms) {
  return millis("db.statement_timeout_ms", std::move(description), default_ms, 1, 86400000);
}

property optional_dsn(const std::string& schema) {
  return secret(schema + ".dsn", "DSN of the " + schema + " schema (empty: skip)", "");
}

}  // namespace splitvote::config
