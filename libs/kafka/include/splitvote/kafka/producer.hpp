// An idempotent Kafka producer that reports each message's delivery to a callback.
#pragma once

#include "splitvote/kafka/client.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace splitvote::kafka {

class producer : public client {
public:
  /// How a message ended. `possibly_persisted`: it failed (for example timed out) after it
  /// may have reached the broker, so it may yet be consumed.
  struct delivery {
    std::optional<std::string> error;  // none: the broker has it (acks=all)
    bool possibly_persisted = false;
    int partition = -1;  // where the broker wrote it (delivered messages only)
    std::int64_t offset = -1;
  };
  /// Called once per message on the producer's poll thread. Keep it short: post work elsewhere.
  using delivery_handler = std::function<void(const delivery&)>;
  using headers = std::vector<std::pair<std::string, std::string>>;

  /// `settings` are raw librdkafka keys; the delivery guarantees are forced on top of them.
  explicit producer(std::map<std::string, std::string> settings);
  ~producer() override;

  enum class enqueue { queued, queue_full, failed };
  /// Hands a message to librdkafka. Only on `queued` will `on_delivery` be called.
  enqueue produce(const std::string& topic, std::string_view value, const headers& hdrs, delivery_handler on_delivery);

  /// Waits for every queued message; false if some were still queued at the deadline.
  bool flush(std::chrono::milliseconds timeout);

  /// Whether a broker answers a metadata request within the timeout.
  bool reachable(std::chrono::milliseconds timeout);

private:
  std::atomic<bool> running_{true};
  std::thread poller_;
};

}  // namespace splitvote::kafka
