// One owned librdkafka handle, and what any client may ask the cluster about a topic and a group.
#pragma once

#include "splitvote/kafka/error.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

struct rd_kafka_s;  // librdkafka's handle (rd_kafka_t); only libs/kafka and native.hpp see inside

namespace splitvote::kafka {

struct handle_deleter {
  void operator()(rd_kafka_s* h) const;
};
using handle_ptr = std::unique_ptr<rd_kafka_s, handle_deleter>;

/// The base of producer and consumer; on its own (from raw librdkafka settings with
/// bootstrap.servers) a client that only asks. Every query throws kafka::error (retriable).
class client {
public:
  explicit client(const std::map<std::string, std::string>& settings);
  virtual ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// The cluster id (a mock cluster has a fresh one each start).
  std::string cluster_id(std::chrono::milliseconds timeout) const;
  /// Partition count of a topic, from broker metadata.
  int partition_count(const std::string& topic, std::chrono::milliseconds timeout) const;
  /// High watermark of a partition (the next offset to be written), asked of its leader.
  std::int64_t high_watermark(const std::string& topic, int partition, std::chrono::milliseconds timeout) const;
  /// The high watermark the last fetch of an assigned partition brought, without asking; none
  /// before the first fetch.
  std::optional<std::int64_t> fetched_high_watermark(const std::string& topic, int partition) const;
  /// Messages and requests waiting in this client's queues (produced, not yet acknowledged).
  std::size_t queued() const;

protected:
  explicit client(handle_ptr handle);
  rd_kafka_s* native() const { return handle_.get(); }

private:
  handle_ptr handle_;
};

}  // namespace splitvote::kafka
