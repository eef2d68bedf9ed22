#include "splitvote/kafka/message.hpp"

#include "splitvote/kafka/native.hpp"

namespace splitvote::kafka {

static_assert(offset_beginning == RD_KAFKA_OFFSET_BEGINNING);

void message::deleter::operator()(rd_kafka_message_s* m) const { rd_kafka_message_destroy(m); }

message::message(rd_kafka_message_s* m) : m_(m) {}
message::~message() = default;
message::message(message&&) noexcept = default;
message& message::operator=(message&&) noexcept = default;

bool message::partition_end() const { return m_->err == RD_KAFKA_RESP_ERR__PARTITION_EOF; }

std::optional<std::string> message::error() const {
  if (!m_->err || partition_end()) return std::nullopt;
  return std::string(rd_kafka_message_errstr(m_.get()));
}

int message::partition() const { return m_->partition; }
std::int64_t message::offset() const { return m_->offset; }
std::string_view message::value() const {
  return m_->payload ? std::string_view(static_cast<const char*>(m_->payload), m_->len) : std::string_view{};
}

}  // namespace splitvote::kafka
