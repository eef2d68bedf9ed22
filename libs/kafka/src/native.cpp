#include "splitvote/kafka/native.hpp"

#include <array>

namespace splitvote::kafka {

void handle_deleter::operator()(rd_kafka_s* h) const { rd_kafka_destroy(h); }

conf_ptr make_conf(const std::map<std::string, std::string>& settings) {
  conf_ptr conf(rd_kafka_conf_new());
  std::array<char, 512> err{};
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), err.data(), err.size()) != RD_KAFKA_CONF_OK)
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

}  // namespace splitvote::kafka
