// Where ingest's envelopes go (the votes topic) and what it reads back of that topic, behind an interface.
#pragma once

#include "splitvote/kafka/producer.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace splitvote::ingest {

class envelope_sink {
public:
  /// How far the topic and the stores' consumer groups are.
  struct positions {
    std::vector<std::int64_t> highs;                  // high watermark by partition; empty: unknown
    std::map<int, std::int64_t> pollbook, ballotbox;  // what each store's group committed
  };

  virtual ~envelope_sink() = default;

  /// Hands an envelope to the topic. Only on `queued` is `on_delivery` called, once, from
  /// another thread: the broker has it, or it failed.
  virtual kafka::producer::enqueue send(std::string_view envelope, const kafka::producer::headers& headers,
                                        kafka::producer::delivery_handler on_delivery) = 0;
  /// Envelopes queued or in flight.
  virtual std::size_t queued() = 0;
  /// Whether the topic's cluster answers within `timeout`.
  virtual bool reachable(std::chrono::milliseconds timeout) = 0;
  /// The topic's high watermarks and the stores' committed positions (the ballotbox's only
  /// if asked), all read within `budget`, or none: a partial read would look complete.
  virtual positions read_positions(bool with_ballotbox, std::chrono::milliseconds budget) = 0;
};

/// `topic` on the cluster `producer` writes to (which must outlive it); the stores' positions
/// are those their consumer groups committed there, read by clients made from `settings`.
std::unique_ptr<envelope_sink> topic_sink(kafka::producer& producer, const std::map<std::string, std::string>& settings,
                                          std::string topic, const std::string& pollbook_group,
                                          const std::string& ballotbox_group);

}  // namespace splitvote::ingest
