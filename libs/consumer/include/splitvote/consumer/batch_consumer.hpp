// The loop both stores run: read the topic, mix a randomized batch, write it and its offsets in one transaction.
#pragma once

#include "splitvote/pg/pool.hpp"
#include "splitvote/random/random_source.hpp"

#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace splitvote::consumer {

struct write_stats {
  std::size_t envelopes = 0;  // envelopes stored
  std::size_t rows = 0;       // rows inserted (before ON CONFLICT)
  std::size_t skipped = 0;    // messages that did not decode
};

/// What a store does with a batch. Implementations decode only their own half of each
/// envelope, skip what does not decode, and insert rows in an order drawn from `rng`.
class sink {
public:
  virtual ~sink() = default;
  virtual write_stats write(pqxx::work& tx, const std::vector<std::string_view>& values,
                            random::random_source& rng) = 0;
};

struct options {
  std::string name;           // for logs and metrics: "pollbook" / "ballotbox"
  std::string dsn;
  pg::session_limits limits;  // every statement's timeout
  std::string schema;         // holds consumer_offsets
  std::string topic;
  std::map<std::string, std::string> kafka;  // raw librdkafka settings, group.id included
  std::size_t min_batch = 1;  // the flush threshold is drawn uniformly in [min_batch, max_batch]
  std::size_t max_batch = 500;
  std::chrono::milliseconds max_delay{200};  // flush a non-empty batch at the latest after this
  std::chrono::milliseconds drain_timeout{20000};  // on stop: read to the end of the topic first
  std::vector<std::string> scrub_tables;           // rewritten in random order every scrub_interval
  std::chrono::milliseconds scrub_interval{0};     // 0: never
};

/// What the probes of a store service report; read from any thread.
struct health {
  bool joined = false;       // in the group with an assignment (possibly empty: more instances than partitions)
  bool database_ok = false;  // the last database round trip succeeded
  std::chrono::steady_clock::duration since_progress{};  // since the loop last went round
  bool stopping = false;
};

class batch_consumer {
public:
  batch_consumer(options opts, sink& s);
  ~batch_consumer();

  health status() const;

  /// Runs until `stop` is set; then drains assigned partitions to their end (bounded by
  /// drain_timeout), writes the last batch, leaves the group and returns.
  void run(const std::atomic<bool>& stop);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace splitvote::consumer
