// The one exception of the Kafka library: a failure, saying whether trying again later can help.
#pragma once

#include <stdexcept>
#include <string>

namespace splitvote::kafka {

struct error : std::runtime_error {
  error(const std::string& what, bool retriable) : std::runtime_error(what), retriable(retriable) {}
  bool retriable;
};

}  // namespace splitvote::kafka
