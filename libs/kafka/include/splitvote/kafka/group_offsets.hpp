// What one consumer group committed, read without joining the group (OffsetFetch, not the Admin API).
#pragma once

#include "splitvote/kafka/client.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace splitvote::kafka {

/// A client of the group's id that never subscribes: it asks the group's coordinator what the
/// group committed. Not the Admin API's ListConsumerGroupOffsets: in the librdkafka Debian 12
/// ships, a coordinator connection that drops while that request is out aborts the process
/// (assertion `eonce->refcnt > 0` in rd_kafka_enq_once_del_source_return; librdkafka issue
/// 4605), which the fault suite hit with the brokers down.
class group_offsets : public client {
public:
  /// `settings`: raw librdkafka keys with bootstrap.servers (producer-only keys are ignored).
  group_offsets(std::map<std::string, std::string> settings, const std::string& group);

  /// The offsets committed for partitions 0..partitions-1 of `topic`; partitions without a
  /// commit are absent. Throws kafka::error (retriable) when the coordinator does not answer.
  std::map<int, std::int64_t> committed(const std::string& topic, int partitions,
                                        std::chrono::milliseconds timeout) const;
};

}  // namespace splitvote::kafka
