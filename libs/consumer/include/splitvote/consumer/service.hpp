// The main() of a store service (pollbook, ballotbox): config, schema check, the batch loop, SIGTERM.
#pragma once

#include "splitvote/consumer/batch_consumer.hpp"

#include <string>

namespace splitvote::consumer {

struct service_spec {
  std::string name;    // "pollbook": also the consumer group suffix and the log service name
  std::string schema;  // schema holding its tables and offsets
  int schema_version;  // the version this build needs
};

/// Runs the service until SIGINT/SIGTERM; returns the process exit code.
int run_service(const service_spec& spec, sink& s, int argc, char** argv);

}  // namespace splitvote::consumer
