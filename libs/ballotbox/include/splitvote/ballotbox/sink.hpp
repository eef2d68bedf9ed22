// Writes the ballot half of each envelope into the ballotbox, rows in random order.
#pragma once

#include "splitvote/consumer/batch_consumer.hpp"
#include "splitvote/envelope/seal.hpp"

#include <optional>

namespace splitvote::ballotbox {

class sink final : public consumer::sink {
public:
  /// `key`: this consumer's key pair, to open sealed halves (none: plain envelopes only).
  explicit sink(std::optional<envelope::keypair> key = std::nullopt) : key_(std::move(key)) {}

  consumer::write_stats write(pqxx::work& tx, const std::vector<std::string_view>& values,
                              random::random_source& rng) override;

private:
  std::optional<envelope::keypair> key_;
};

}  // namespace splitvote::ballotbox
