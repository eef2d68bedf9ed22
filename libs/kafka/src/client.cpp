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

std::map<int, std::int64_t> client::committed_offsets(const std::string& group, const std::string& topic,
                                                      int partitions, std::chrono::milliseconds timeout) const {
  partition_list_ptr wanted(rd_kafka_topic_partition_list_new(partitions));
  for (int i = 0; i < partitions; ++i) rd_kafka_topic_partition_list_add(wanted.get(), topic.c_str(), i);
  group_offsets_request_ptr request(rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), wanted.get()));
  admin_options_ptr options(rd_kafka_AdminOptions_new(native(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS));
  std::array<char, 512> err{};
  rd_kafka_AdminOptions_set_request_timeout(options.get(), millis(timeout), err.data(), err.size());
  queue_ptr queue(rd_kafka_queue_new(native()));
  rd_kafka_ListConsumerGroupOffsets_t* requests[] = {request.get()};
  rd_kafka_ListConsumerGroupOffsets(native(), requests, 1, options.get(), queue.get());
  event_ptr event(rd_kafka_queue_poll(queue.get(), millis(timeout) + 100));
  if (!event) throw error("kafka committed offsets of " + group + ": no answer in time", true);
  if (rd_kafka_event_error(event.get()))
    throw error("kafka committed offsets of " + group + ": " + rd_kafka_event_error_string(event.get()), true);
  const auto* result = rd_kafka_event_ListConsumerGroupOffsets_result(event.get());
  std::size_t count = 0;
  const rd_kafka_group_result_t** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(result, &count);
  std::map<int, std::int64_t> out;
  for (std::size_t g = 0; g < count; ++g) {
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[g]))
      throw error("kafka committed offsets of " + group + ": " + rd_kafka_error_string(e), true);
    const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(groups[g]);
    for (int i = 0; parts && i < parts->cnt; ++i) {
      const auto& p = parts->elems[i];
      if (!p.err && p.offset >= 0 && topic == p.topic) out[p.partition] = p.offset;
    }
  }
  return out;
}

std::size_t client::queued() const { return static_cast<std::size_t>(std::max(0, rd_kafka_outq_len(native()))); }

}  // namespace splitvote::kafka
