// A Kafka group consumer whose partition positions come from our own store, not from Kafka.
#pragma once

#include "splitvote/kafka/client.hpp"
#include "splitvote/kafka/message.hpp"

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace splitvote::kafka {

struct partition_offset {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;  // next offset to read
};

class consumer : public client {
public:
  /// Given the partitions just assigned, returns where to start each (from the offset store).
  using on_assign = std::function<std::vector<partition_offset>(const std::vector<partition_offset>&)>;
  /// Called before partitions are taken away, while they are still ours.
  using on_revoke = std::function<void(const std::vector<partition_offset>&)>;

  /// `settings` are raw librdkafka keys; group.id must be among them. Auto commit and auto
  /// offset store are forced off: offsets are committed by the caller after its own commit.
  consumer(std::map<std::string, std::string> settings, on_assign assign, on_revoke revoke);
  ~consumer() override;

  void subscribe(const std::string& topic);

  /// The next message or event (such as the end of a partition), or none within the timeout.
  /// Rethrows what a rebalance handler threw: the assignment is then empty.
  std::optional<message> poll(std::chrono::milliseconds timeout);

  /// Moves the read position of assigned partitions (after a fenced write).
  void seek(const std::vector<partition_offset>& positions);

  /// Best-effort asynchronous commit of the given next-offsets to Kafka (for lag tooling).
  void commit_async(const std::vector<partition_offset>& offsets);

  /// Leaves the group (revoking partitions through on_revoke) and closes.
  void close();

private:
  struct callbacks;  // librdkafka's rebalance callback, in consumer.cpp

  on_assign assign_;
  on_revoke revoke_;
  bool closed_ = false;
  std::exception_ptr failure_;  // thrown by a rebalance handler, rethrown from poll()
};

}  // namespace splitvote::kafka
