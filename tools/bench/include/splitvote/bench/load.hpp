// The load generator: keep-alive HTTP connections sending votes, open loop (a fixed schedule
// of intended send times) or closed loop (each connection as fast as it gets answers).
#pragma once

#include "splitvote/bench/histogram.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace splitvote::bench {

enum class loop_mode { open, closed };

struct load_options {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  loop_mode mode = loop_mode::closed;
  double rate = 1000;  // votes/s, open loop only
  std::chrono::milliseconds duration{10000};
  std::chrono::milliseconds warmup{2000};
  int connections = 32;
  int threads = 2;
  std::vector<std::string> poll_ids;   // votes go round-robin over these
  std::vector<std::string> choices;    // of each poll (the same for all)
  std::string actor_prefix = "bench";  // actors are <prefix>-<n>: every vote from a distinct actor
  bool progress = true;                // one line a second on stderr
};

struct second_sample {
  double t = 0;                 // seconds since the start (warm-up included)
  std::uint64_t completed = 0;  // responses in this second
  std::uint64_t accepted = 0;   // of which 202
  std::uint64_t max_us = 0;     // the slowest of them
};

struct load_result {
  double measured_seconds = 0;            // the window after warm-up, until the last measured answer
  std::uint64_t sent = 0;                 // all requests, warm-up included
  std::uint64_t completed = 0;            // all answers (or transport errors), warm-up included
  std::uint64_t measured = 0;             // answers in the measured window
  std::uint64_t accepted_total = 0;       // 202s, warm-up included: what the stores must end up holding
  std::map<int, std::uint64_t> statuses;  // measured window; 0 = transport error
  std::map<std::string, std::uint64_t> accepted_per_poll;  // all 202s
  histogram latency;                                       // microseconds, measured window
  std::vector<second_sample> timeline;
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point finished;  // the last answer
  std::uint64_t reconnects = 0;
};

/// Runs the load and returns when every connection has had its last answer.
load_result run_load(const load_options& options);

/// POSTs `body` to /v1/polls and returns the new poll's id (the ceiling server answers an id too).
std::string create_poll(const std::string& host, const std::string& port, const std::string& body);

}  // namespace splitvote::bench
