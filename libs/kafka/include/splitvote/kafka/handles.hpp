// RAII owners of librdkafka's C handles, and turning its configuration errors into exceptions.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace splitvote::kafka {

/// A Kafka failure, saying whether trying again later can help.
struct error : std::runtime_error {
  error(const std::string& what, bool retriable) : std::runtime_error(what), retriable(retriable) {}
  bool retriable;
};

struct conf_deleter { void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); } };
struct handle_deleter { void operator()(rd_kafka_t* h) const { rd_kafka_destroy(h); } };
struct message_deleter { void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); } };
struct partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
struct headers_deleter { void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); } };

using conf_ptr = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;
using handle_ptr = std::unique_ptr<rd_kafka_t, handle_deleter>;
using message_ptr = std::unique_ptr<rd_kafka_message_t, message_deleter>;
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;
using headers_ptr = std::unique_ptr<rd_kafka_headers_t, headers_deleter>;

/// A configuration with every key set; throws kafka::error naming the bad key.
conf_ptr make_conf(const std::map<std::string, std::string>& settings);

/// rd_kafka_new; takes ownership of conf on success.
handle_ptr make_handle(rd_kafka_type_t type, conf_ptr conf);

/// The cluster id the handle is connected to (a mock cluster has a fresh one each start).
std::string cluster_id(rd_kafka_t* handle, int timeout_ms);

/// Partition count of a topic, from broker metadata.
int partition_count(rd_kafka_t* handle, const std::string& topic, int timeout_ms);

/// High watermark of a partition (the next offset to be written).
std::int64_t high_watermark(rd_kafka_t* handle, const std::string& topic, int partition,
                            int timeout_ms);

/// The offsets a consumer group last committed for partitions 0..partitions-1 of a topic
/// (Admin API, any handle); partitions without a commit are absent. Throws kafka::error.
std::map<int, std::int64_t> committed_offsets(rd_kafka_t* handle, const std::string& group, const std::string& topic,
                                              int partitions, int timeout_ms);

}  // namespace splitvote::kafka
