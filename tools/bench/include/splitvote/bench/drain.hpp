// The drain: after the load, how long until pollbook and ballotbox hold every accepted vote.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace splitvote::bench {

struct drain_result {
  bool complete = false;
  double seconds = 0;  // from the last answer until both stores held every accepted vote
  std::uint64_t expected = 0;
  std::uint64_t pollbook = 0;   // submissions stored for the bench's polls
  std::uint64_t ballotbox = 0;  // envelopes counted for the bench's polls
};

/// Polls both stores every 50 ms until each holds `accepted_per_poll` in total, or `timeout`.
drain_result wait_for_drain(const std::string& pollbook_dsn, const std::string& ballotbox_dsn,
                            const std::map<std::string, std::uint64_t>& accepted_per_poll,
                            std::chrono::steady_clock::time_point since, std::chrono::milliseconds timeout);

}  // namespace splitvote::bench
