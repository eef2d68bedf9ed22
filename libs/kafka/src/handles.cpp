#include "splitvote/kafka/handles.hpp"

#include <array>

namespace splitvote::kafka {

conf_ptr make_conf(const std::map<std::string, std::string>& settings) {
  conf_ptr conf(rd_kafka_conf_new());
  std::array<char, 512> err{};
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), err.data(), err.size()) !=
        RD_KAFKA_CONF_OK)
      throw error("kafka setting " + key + ": " + err.data(), false);
  }
  return conf;
}

handle_ptr make_handle(rd_kafka_type_t type, conf_ptr conf) {
  std::array<char, 512> err{};
  rd_kafka_t* h = rd_kafka_new(type, conf.get(), err.data(), err.size());
  if (!h) throw error(std::string("rd_kafka_new: ") + err.data(), false);
  conf.release();  // owned by the handle now
  return handle_ptr(h);
}

std::string cluster_id(rd_kafka_t* handle, int timeout_ms) {
  char* id = rd_kafka_clusterid(handle, timeout_ms);
  if (!id) throw error("kafka cluster id not available (brokers unreachable?)", true);
  std::string out(id);
  rd_kafka_mem_free(handle, id);
  return out;
}

int partition_count(rd_kafka_t* handle, const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* t = rd_kafka_topic_new(handle, topic.c_str(), nullptr);
  if (!t) throw error("rd_kafka_topic_new failed for " + topic, false);
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(handle, 0, t, &md, timeout_ms);
  rd_kafka_topic_destroy(t);
  if (err) throw error(std::string("kafka metadata: ") + rd_kafka_err2str(err), true);
  int count = -1;
  if (md->topic_cnt == 1 && !md->topics[0].err) count = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  if (count < 0) throw error("kafka topic " + topic + " not found", true);
  return count;
}

std::int64_t high_watermark(rd_kafka_t* handle, const std::string& topic, int partition,
                            int timeout_ms) {
  std::int64_t low = 0, high = 0;
  const auto err = rd_kafka_query_watermark_offsets(handle, topic.c_str(), partition, &low, &high,
                                                    timeout_ms);
  if (err) throw error(std::string("kafka watermarks: ") + rd_kafka_err2str(err), true);
  return high;
}

namespace {
struct queue_deleter { void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); } };
struct event_deleter { void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); } };
struct options_deleter { void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); } };
struct list_offsets_deleter {
  void operator()(rd_kafka_ListConsumerGroupOffsets_t* r) const { rd_kafka_ListConsumerGroupOffsets_destroy(r); }
};
}  // namespace

std::map<int, std::int64_t> committed_offsets(rd_kafka_t* handle, const std::string& group, const std::string& topic,
                                              int partitions, int timeout_ms) {
  partition_list_ptr wanted(rd_kafka_topic_partition_list_new(partitions));
  for (int i = 0; i < partitions; ++i) rd_kafka_topic_partition_list_add(wanted.get(), topic.c_str(), i);
  std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t, list_offsets_deleter> request(
      rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), wanted.get()));
  std::unique_ptr<rd_kafka_AdminOptions_t, options_deleter> options(
      rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS));
  std::array<char, 512> err{};
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, err.data(), err.size());
  std::unique_ptr<rd_kafka_queue_t, queue_deleter> queue(rd_kafka_queue_new(handle));
  rd_kafka_ListConsumerGroupOffsets_t* requests[] = {request.get()};
  rd_kafka_ListConsumerGroupOffsets(handle, requests, 1, options.get(), queue.get());
  std::unique_ptr<rd_kafka_event_t, event_deleter> event(rd_kafka_queue_poll(queue.get(), timeout_ms + 100));
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

}  // namespace splitvote::kafka
