#include "splitvote/ingest/envelope_sink.hpp"

#include "splitvote/kafka/error.hpp"
#include "splitvote/kafka/group_offsets.hpp"

#include <algorithm>
#include <utility>

namespace splitvote::ingest {

namespace {

class kafka_topic final : public envelope_sink {
public:
  kafka_topic(kafka::producer& producer, const std::map<std::string, std::string>& settings, std::string topic,
              const std::string& pollbook_group, const std::string& ballotbox_group)
      : producer_(producer),
        topic_(std::move(topic)),
        pollbook_(settings, pollbook_group),
        ballotbox_(settings, ballotbox_group) {}

  kafka::producer::enqueue send(std::string_view envelope, const kafka::producer::headers& headers,
                                kafka::producer::delivery_handler on_delivery) override {
    return producer_.produce(topic_, envelope, headers, std::move(on_delivery));
  }

  std::size_t queued() override { return producer_.queued(); }

  bool reachable(std::chrono::milliseconds timeout) override { return producer_.reachable(timeout); }

  positions read_positions(bool with_ballotbox, std::chrono::milliseconds budget) override {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + budget;
    const auto left = [&] {
      return std::max(std::chrono::milliseconds(1),
                      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
    };
    positions out;
    try {
      const int partitions = producer_.partition_count(topic_, left());
      for (int i = 0; i < partitions; ++i) out.highs.push_back(producer_.high_watermark(topic_, i, left()));
      out.pollbook = pollbook_.committed(topic_, partitions, left());
      if (with_ballotbox) out.ballotbox = ballotbox_.committed(topic_, partitions, left());
    } catch (const kafka::error&) {
      return {};  // none rather than some: a partial lag would look complete
    }
    return out;
  }

private:
  kafka::producer& producer_;
  const std::string topic_;
  kafka::group_offsets pollbook_, ballotbox_;  // what each store's group committed
};

}  // namespace

std::unique_ptr<envelope_sink> topic_sink(kafka::producer& producer, const std::map<std::string, std::string>& settings,
                                          std::string topic, const std::string& pollbook_group,
                                          const std::string& ballotbox_group) {
  return std::make_unique<kafka_topic>(producer, settings, std::move(topic), pollbook_group, ballotbox_group);
}

}  // namespace splitvote::ingest
