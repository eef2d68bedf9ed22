#include "splitvote/kafka/client.hpp"

#include "splitvote/kafka/native.hpp"

#include <algorithm>
#include <array>

namespace splitvote::kafka {
namespace {

int millis(std::chrono::milliseconds timeout) { return static_cast<int>(timeout.count()); }

/// Memory librdkafka allocated for a handle's caller (rd_kafka_mem_free needs the handle).
struct mem_deleter {
  rd_kafka_t* handle;
  void operator()(char* p) const { rd_kafka_mem_free(handle, p); }
};

}  // namespace

client::client(const std::map<std::string, std::string>& settings)
    : handle_(make_handle(RD_KAFKA_PRODUCER, make_conf(settings))) {}

client::client(handle_ptr handle) : handle_(std::move(handle)) {}

client::~client() = default;

std::string client::cluster_id(std::chrono::milliseconds timeout) const {
  const std::unique_ptr<char, mem_deleter> id(rd_kafka_clusterid(native(), millis(timeout)), mem_deleter{native()});
  if (!id) throw error("kafka cluster id not available (brokers unreachable?)", true);
  return id.get();
}

int client::partition_count(const std::string& topic, std::chrono::milliseconds timeout) const {
  topic_ptr t(rd_kafka_topic_new(native(), topic.c_str(), nullptr));
  if (!t) throw error("rd_kafka_topic_new failed for " + topic, false);
  const rd_kafka_metadata_t* raw = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(native(), 0, t.get(), &raw, millis(timeout));
  if (err) throw error(std::string("kafka metadata: ") + rd_kafka_err2str(err), true);
  const metadata_ptr md(raw);
  if (md->topic_cnt != 1 || md->topics[0].err) throw error("kafka topic " + topic + " not found", true);
  return md->topics[0].partition_cnt;
}

std::int64_t client::high_watermark(const std::string& topic, int partition, std::chrono::milliseconds timeout) const {
  std::int64_t low = 0, high = 0;
  const auto err = rd_kafka_query_watermark_offsets(native(), topic.c_str(), partition, &low, &high, millis(timeout));
  if (err) throw error(std::string("kafka watermarks: ") + rd_kafka_err2str(err), true);
  return high;
}

std::optional<std::int64_t> client::fetched_high_watermark(const std::string& topic, int partition) const {
  std::int64_t low = 0, high = 0;
  if (rd_kafka_get_watermark_offsets(native(), topic.c_str(), partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0)
    return std::nullopt;
  return high;
}

std::size_t client::queued() const { return static_cast<std::size_t>(std::max(0, rd_kafka_outq_len(native()))); }

}  // namespace splitvote::kafka
