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

}  // namespace splitvote::kafka
