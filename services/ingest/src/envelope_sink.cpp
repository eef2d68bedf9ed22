#include "splitvote/ingest/envelope_sink.hpp"

#include "splitvote/kafka/error.hpp"

#include <algorithm>
#include <utility>

namespace splitvote::ingest {

namespace {

class kafka_topic final : public envelope_sink {
public:
  kafka_topic(kafka::producer& producer, std::string topic, std::string pollbook_group, std::string ballotbox_group)
      : producer_(producer),
        topic_(std::move(topic)),
        pollbook_group_(std::move(pollbook_group)),
        ballotbox_group_(std::move(ballotbox_group)) {}

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
      out.pollbook = producer_.committed_offsets(pollbook_group_, topic_, partitions, left());
      if (with_ballotbox) out.ballotbox = producer_.committed_offsets(ballotbox_group_, topic_, partitions, left());
    } catch (const kafka::error&) {
      return {};  // none rather than some: a partial lag would look complete
    }
    return out;
  }

private:
  kafka::producer& producer_;
  const std::string topic_, pollbook_group_, ballotbox_group_;
};

}  // namespace

std::unique_ptr<envelope_sink> topic_sink(kafka::producer& producer, std::string topic, std::string pollbook_group,
                                          std::string ballotbox_group) {
  return std::make_unique<kafka_topic>(producer, std::move(topic), std::move(pollbook_group),
                                       std::move(ballotbox_group));
}

}  // namespace splitvote::ingest
