#include "splitvote/kafka/consumer.hpp"

#include "splitvote/kafka/native.hpp"

#include <utility>

namespace splitvote::kafka {
namespace {

std::vector<partition_offset> to_vector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<partition_offset> out;
  for (int i = 0; list && i < list->cnt; ++i)
    out.push_back({list->elems[i].topic, list->elems[i].partition, list->elems[i].offset});
  return out;
}

partition_list_ptr to_list(const std::vector<partition_offset>& offsets) {
  partition_list_ptr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& o : offsets)
    rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition)->offset = o.offset;
  return list;
}

}  // namespace

struct consumer::callbacks {
  static void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                        void* opaque) {
    auto* self = static_cast<consumer*>(opaque);
    // Exceptions must not cross librdkafka's C frames: remember them and rethrow from poll().
    try {
      if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        const auto starts = self->assign_(to_vector(partitions));
        partition_list_ptr list = to_list(starts);
        rd_kafka_assign(rk, list.get());
        return;
      }
      self->revoke_(to_vector(partitions));
    } catch (...) {
      self->failure_ = std::current_exception();
    }
    rd_kafka_assign(rk, nullptr);
  }

  static handle_ptr make(std::map<std::string, std::string> settings, consumer* self) {
    if (!settings.count("group.id")) throw error("consumer needs group.id", false);
    settings["enable.auto.commit"] = "false";
    settings["enable.auto.offset.store"] = "false";
    settings.try_emplace("auto.offset.reset", "earliest");
    settings.try_emplace("partition.assignment.strategy", "range");
    conf_ptr conf = make_conf(settings);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &callbacks::rebalance);
    rd_kafka_conf_set_opaque(conf.get(), self);
    return make_handle(RD_KAFKA_CONSUMER, std::move(conf));
  }
};

consumer::consumer(std::map<std::string, std::string> settings, on_assign assign, on_revoke revoke)
    : client(callbacks::make(std::move(settings), this)), assign_(std::move(assign)), revoke_(std::move(revoke)) {
  rd_kafka_poll_set_consumer(native());
}

consumer::~consumer() {
  if (!closed_) {
    try {
      close();
    } catch (const std::exception&) {
      // Closing is best effort at destruction; the owner calls close() to see errors.
    }
  }
}

void consumer::subscribe(const std::string& topic) {
  partition_list_ptr topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(native(), topics.get()))
    throw error(std::string("subscribe: ") + rd_kafka_err2str(err), false);
}

std::optional<message> consumer::poll(std::chrono::milliseconds timeout) {
  std::optional<message> m;
  if (rd_kafka_message_t* raw = rd_kafka_consumer_poll(native(), static_cast<int>(timeout.count()))) m.emplace(raw);
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
  return m;
}

void consumer::seek(const std::vector<partition_offset>& positions) {
  partition_list_ptr list = to_list(positions);
  if (const error_ptr e{rd_kafka_seek_partitions(native(), list.get(), 5000)})
    throw error(std::string("seek: ") + rd_kafka_error_string(e.get()), true);
}

void consumer::commit_async(const std::vector<partition_offset>& offsets) {
  if (offsets.empty()) return;
  partition_list_ptr list = to_list(offsets);
  rd_kafka_commit(native(), list.get(), 1);
}

void consumer::close() {
  if (closed_) return;
  closed_ = true;
  if (auto err = rd_kafka_consumer_close(native()))
    throw error(std::string("consumer close: ") + rd_kafka_err2str(err), true);
}

}  // namespace splitvote::kafka
