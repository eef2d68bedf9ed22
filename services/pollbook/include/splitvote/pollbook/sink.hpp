// Writes the actor half of each envelope into the pollbook, rows in random order.
#pragma once

#include "splitvote/consumer/batch_consumer.hpp"
#include "splitvote/envelope/seal.hpp"

#include <vector>

namespace splitvote::pollbook {

class sink final : public consumer::sink {
public:
  /// `keys`: this consumer's key pairs, to open sealed halves (none: plain envelopes only).
  explicit sink(std::vector<envelope::keypair> keys = {}) : keys_(std::move(keys)) {}

  std::unique_ptr<consumer::decoded> decode(std::string_view value) override;
  consumer::write_stats write(pqxx::work& tx, const std::vector<const consumer::decoded*>& batch,
                              random::random_source& rng) override;

private:
  std::vector<envelope::keypair> keys_;
};

}  // namespace splitvote::pollbook
