// The main() of a store service (pollbook, ballotbox): config, schema check, the batch loop, SIGTERM.
#pragma once

#include "splitvote/consumer/batch_consumer.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace splitvote::store {

struct service_spec {
  std::string name;                          // "pollbook": also the consumer group suffix and the log service name
  std::string schema;                        // schema holding its tables and offsets
  int schema_version;                        // the version this build needs
  std::vector<std::string> scrubbed_tables;  // rewritten in random order on schedule
};

/// Builds the store's sink from the configured secret key file (empty: none configured).
using sink_factory = std::function<std::unique_ptr<consumer::sink>(const std::string& secret_key_file)>;

/// Runs the service until SIGINT/SIGTERM; returns the process exit code.
int run_service(const service_spec& spec, const sink_factory& make_sink, int argc, char** argv);

}  // namespace splitvote::store
