// How many submissions and distinct actors a poll's pollbook holds (no SQL: a value type).
#pragma once

#include <cstdint>

namespace splitvote::pollbook {

struct participation {
  std::int64_t submissions = 0;
  std::int64_t unique_actors = 0;
  std::int64_t duplicates() const { return submissions - unique_actors; }
};

}  // namespace splitvote::pollbook
