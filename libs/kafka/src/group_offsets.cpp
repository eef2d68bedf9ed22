#include "splitvote/kafka/group_offsets.hpp"

#include "splitvote/kafka/native.hpp"

#include <utility>

namespace splitvote::kafka {

namespace {

handle_ptr group_handle(std::map<std::string, std::string> settings, const std::string& group) {
  // A producer's settings: the keys only a producer knows would each log a warning here.
  for (const char* key : {"message.timeout.ms", "queue.buffering.max.messages", "queue.buffering.max.kbytes",
                          "linger.ms", "enable.idempotence", "acks"})
    settings.erase(key);
  settings["group.id"] = group;
  settings["enable.auto.commit"] = "false";
  return make_handle(RD_KAFKA_CONSUMER, make_conf(settings));
}

}  // namespace

group_offsets::group_offsets(std::map<std::string, std::string> settings, const std::string& group)
    : client(group_handle(std::move(settings), group)) {}

std::map<int, std::int64_t> group_offsets::committed(const std::string& topic, int partitions,
                                                     std::chrono::milliseconds timeout) const {
  partition_list_ptr wanted(rd_kafka_topic_partition_list_new(partitions));
  for (int i = 0; i < partitions; ++i) rd_kafka_topic_partition_list_add(wanted.get(), topic.c_str(), i);
  const auto err = rd_kafka_committed(native(), wanted.get(), static_cast<int>(timeout.count()));
  if (err) throw error(std::string("kafka committed offsets: ") + rd_kafka_err2str(err), true);
  std::map<int, std::int64_t> out;
  for (int i = 0; i < wanted->cnt; ++i) {
    const auto& p = wanted->elems[i];
    if (!p.err && p.offset >= 0) out[p.partition] = p.offset;
  }
  return out;
}

}  // namespace splitvote::kafka
