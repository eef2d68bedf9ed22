// The dev broker's fault-injection commands: one line each, read from a FIFO, acknowledged on stdout.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <filesystem>
#include <string>
#include <thread>

namespace splitvote::dev_broker {

/// Applies one command to the mock cluster; returns what it did, throws std::invalid_argument
/// for a bad command. Commands:
///   down BROKER | up BROKER                 broker unreachable / back (no leader change)
///   leader TOPIC PARTITION BROKER           move a partition's leadership (a failover)
///   errors API_KEY COUNT ERROR_CODE         the next COUNT requests of that type fail
///                                           (0 Produce, 1 Fetch, 8 OffsetCommit, ...)
///   rtt BROKER MS                           delay every response of a broker
std::string apply(rd_kafka_mock_cluster_t* cluster, const std::string& line);

/// Reads commands from a FIFO at `path` (created, mode 600) on its own thread until destroyed;
/// prints "control: ok: LINE (WHAT)" or "control: error: LINE (WHY)" for each.
class control_channel {
public:
  control_channel(rd_kafka_mock_cluster_t* cluster, std::filesystem::path path);
  ~control_channel();
  control_channel(const control_channel&) = delete;
  control_channel& operator=(const control_channel&) = delete;

private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::jthread reader_;
};

}  // namespace splitvote::dev_broker
