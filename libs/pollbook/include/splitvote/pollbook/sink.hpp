// Writes the actor half of each envelope into the pollbook, rows in random order.
#pragma once

#include "splitvote/consumer/batch_consumer.hpp"

namespace splitvote::pollbook {

class sink final : public consumer::sink {
public:
  consumer::write_stats write(pqxx::work& tx, const std::vector<std::string_view>& values,
                              random::random_source& rng) override;
};

}  // namespace splitvote::pollbook
