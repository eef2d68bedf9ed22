// Writes the ballot half of each envelope into the ballotbox, rows in random order.
#pragma once

#include "splitvote/consumer/batch_consumer.hpp"

namespace splitvote::ballotbox {

class sink final : public consumer::sink {
public:
  consumer::write_stats write(pqxx::work& tx, const std::vector<std::string_view>& values,
                              random::random_source& rng) override;
};

}  // namespace splitvote::ballotbox
