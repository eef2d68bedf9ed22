// The loop both stores run: read the topic, mix each poll's envelopes by count, write batches and positions in one
// transaction.
#pragma once

#include "splitvote/consumer/mixer.hpp"
#include "splitvote/consumer/position.hpp"
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
};

/// One message as a store reads it. Stores derive their own (with the rows they will
/// insert); the loop needs only the poll it belongs to and whether it is a vote.
struct decoded {
  virtual ~decoded() = default;
  std::string poll_id;  // empty: the message did not decode and is skipped
  bool real = false;    // a vote, not a cover envelope: counts toward the poll's mix
  /// Set on one vote of a poll's crowd that left by its wait with fewer than mixing.min_real
  /// votes: how many votes are missing. The ballotbox adds decoys for them.
  std::size_t crowd_shortfall = 0;
};

/// What a store does with the topic. Implementations decode only their own half of each
/// envelope and insert rows in an order drawn from `rng`.
class sink {
public:
  virtual ~sink() = default;
  /// Never throws for bad input: a message that does not decode comes back with no poll.
  virtual std::unique_ptr<decoded> decode(std::string_view value) = 0;
  /// Writes decoded messages (none of them skipped ones) inside `tx`.
  virtual write_stats write(pqxx::work& tx, const std::vector<const decoded*>& batch, random::random_source& rng) = 0;
};

struct options {
  std::string name;  // for logs and metrics: "pollbook" / "ballotbox"
  std::string dsn;
  pg::session_limits limits;                // every statement's timeout
  std::string schema;                       // holds consumer_offsets
  std::vector<position_key> position_keys;  // the first seals stored positions, any opens them; none: plain
  std::string topic;
  std::map<std::string, std::string> kafka;  // raw librdkafka settings, group.id included
  mix_settings mixing;                       // when a poll's envelopes may be written (mixer.hpp)
  // Of the envelopes that are due, a transaction takes a number drawn uniformly in
  // [min_batch, max_batch], or what is there once the oldest has been due for max_delay.
  std::size_t min_batch = 1;
  std::size_t max_batch = 500;
  std::chrono::milliseconds max_delay{200};
  std::chrono::milliseconds kafka_commit_interval{10000};  // positions to Kafka (lag tooling), coarsely
  std::chrono::milliseconds drain_timeout{20000};          // on stop: read to the end of the topic first
  std::vector<std::string> scrub_tables;                   // rewritten in random order every scrub_interval
  std::chrono::milliseconds scrub_interval{0};             // 0: never
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
