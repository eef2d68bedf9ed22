// A consumed Kafka message (or a consumer event such as the end of a partition), owned.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct rd_kafka_message_s;  // librdkafka's rd_kafka_message_t

namespace splitvote::kafka {

/// Where a group member starts reading when asked for "the beginning" (RD_KAFKA_OFFSET_BEGINNING).
inline constexpr std::int64_t offset_beginning = -2;

class message {
public:
  /// Takes ownership of what rd_kafka_consumer_poll returned (not null).
  explicit message(rd_kafka_message_s* m);
  ~message();
  message(message&&) noexcept;
  message& operator=(message&&) noexcept;

  /// The consumer read to the end of partition() (an event, not a message).
  bool partition_end() const;
  /// What went wrong, for an error event (not partition_end()); none for a message.
  std::optional<std::string> error() const;
  int partition() const;
  std::int64_t offset() const;
  /// The payload, valid while this message lives.
  std::string_view value() const;

private:
  struct deleter {
    void operator()(rd_kafka_message_s* m) const;
  };
  std::unique_ptr<rd_kafka_message_s, deleter> m_;
};

}  // namespace splitvote::kafka
