#include "splitvote/kafka/producer.hpp"

#include "splitvote/kafka/native.hpp"

#include <memory>

namespace splitvote::kafka {
namespace {

void on_delivery_report(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  // Ownership of the handler was released into the message's opaque at produce time.
  std::unique_ptr<producer::delivery_handler> handler(static_cast<producer::delivery_handler*>(msg->_private));
  if (!handler) return;
  producer::delivery d;
  if (msg->err) {
    d.error = rd_kafka_err2str(msg->err);
    d.possibly_persisted = rd_kafka_message_status(msg) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED;
  } else {
    d.partition = msg->partition;
    d.offset = msg->offset;
  }
  (*handler)(d);
}

handle_ptr make_producer(std::map<std::string, std::string> settings) {
  // The guarantees the product promises; nobody's configuration may turn them off.
  settings["enable.idempotence"] = "true";
  settings["acks"] = "all";
  settings.try_emplace("message.timeout.ms", "5000");
  settings.try_emplace("linger.ms", "2");
  conf_ptr conf = make_conf(settings);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &on_delivery_report);
  return make_handle(RD_KAFKA_PRODUCER, std::move(conf));
}

}  // namespace

producer::producer(std::map<std::string, std::string> settings) : client(make_producer(std::move(settings))) {
  /// Delivery reports only arrive while someone polls; this thread is that someone.
  poller_ = std::thread([this] {
    while (running_.load(std::memory_order_relaxed)) rd_kafka_poll(native(), 50);
  });
}

producer::~producer() {
  flush(std::chrono::seconds(5));
  running_ = false;
  poller_.join();
  // Fail whatever is left so every handler runs exactly once.
  rd_kafka_purge(native(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(native(), 0);
}

producer::enqueue producer::produce(const std::string& topic, std::string_view value, const headers& hdrs,
                                    delivery_handler on_delivery) {
  headers_ptr h(rd_kafka_headers_new(hdrs.size()));
  for (const auto& [name, v] : hdrs)
    rd_kafka_header_add(h.get(), name.data(), static_cast<ssize_t>(name.size()), v.data(),
                        static_cast<ssize_t>(v.size()));
  auto handler = std::make_unique<delivery_handler>(std::move(on_delivery));
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      native(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h.get()), RD_KAFKA_V_OPAQUE(handler.get()),
      RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    h.release();        // librdkafka owns the headers now
    handler.release();  // reclaimed in on_delivery_report
    return enqueue::queued;
  }
  return err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? enqueue::queue_full : enqueue::failed;
}

bool producer::flush(std::chrono::milliseconds timeout) {
  return rd_kafka_flush(native(), static_cast<int>(timeout.count())) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

bool producer::reachable(std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  if (rd_kafka_metadata(native(), 0, nullptr, &raw, static_cast<int>(timeout.count()))) return false;
  const metadata_ptr md(raw);
  return md->broker_cnt > 0;
}

}  // namespace splitvote::kafka
