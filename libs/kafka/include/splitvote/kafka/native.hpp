// librdkafka's C handles, owned (RAII), for the code that must call the C API itself: the
// Kafka library's sources and the dev broker (librdkafka's mock cluster). Others use client,
// producer, consumer and message, which do not expose librdkafka.
#pragma once

#include "splitvote/kafka/client.hpp"
#include "splitvote/kafka/error.hpp"

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>

namespace splitvote::kafka {

template <class T, void (*destroy)(T*)>
struct c_deleter {
  void operator()(T* p) const { destroy(p); }
};

using conf_ptr = std::unique_ptr<rd_kafka_conf_t, c_deleter<rd_kafka_conf_t, rd_kafka_conf_destroy>>;
using partition_list_ptr =
    std::unique_ptr<rd_kafka_topic_partition_list_t,
                    c_deleter<rd_kafka_topic_partition_list_t, rd_kafka_topic_partition_list_destroy>>;
using headers_ptr = std::unique_ptr<rd_kafka_headers_t, c_deleter<rd_kafka_headers_t, rd_kafka_headers_destroy>>;
using topic_ptr = std::unique_ptr<rd_kafka_topic_t, c_deleter<rd_kafka_topic_t, rd_kafka_topic_destroy>>;
using error_ptr = std::unique_ptr<rd_kafka_error_t, c_deleter<rd_kafka_error_t, rd_kafka_error_destroy>>;

inline void destroy_metadata(const rd_kafka_metadata_t* m) { rd_kafka_metadata_destroy(m); }
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, c_deleter<const rd_kafka_metadata_t, destroy_metadata>>;

/// A configuration with every key set; throws kafka::error naming the bad key.
conf_ptr make_conf(const std::map<std::string, std::string>& settings);

/// rd_kafka_new; takes ownership of conf on success.
handle_ptr make_handle(rd_kafka_type_t type, conf_ptr conf);

}  // namespace splitvote::kafka
