// The settings several services share, declared once: Kafka's address, topic and pass-through, log.level, HTTP
// listening, the statement timeout.
#pragma once

#include "splitvote/config/settings.hpp"

#include <map>
#include <string>
#include <vector>

namespace splitvote::config {

/// kafka.bootstrap_servers (required) and kafka.topic.
std::vector<property> kafka_properties();
/// Keys under "kafka.rdkafka." go to librdkafka as they are: settings::load's pass-through.
std::vector<std::string> kafka_passthrough();
/// The librdkafka configuration: the pass-through keys, then bootstrap.servers from kafka_properties.
std::map<std::string, std::string> rdkafka_settings(const settings& cfg);

/// log.level.
property log_level();

/// http.address (default 127.0.0.1) and http.port (0-65535), described for this service.
std::vector<property> http_listen(std::string address_description, std::string port_description,
                                  std::int64_t default_port);

/// db.statement_timeout_ms (1 ms to a day): PostgreSQL cancels any statement of this program that runs longer.
property statement_timeout(std::string description, std::int64_t default_ms);

/// `<schema>.dsn` of a tool that works on whichever schemas are set (migrate, scrub): empty skips it.
property optional_dsn(const std::string& schema);

}  // namespace splitvote::config
