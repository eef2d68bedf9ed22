// GET /results: both stores' counts, the poll's noisy release (privacy::decide_release), estimates, the lag.
#pragma once

#include "splitvote/catalog/poll.hpp"
#include "splitvote/ingest/catalog_store.hpp"
#include "splitvote/ingest/envelope_sink.hpp"
#include "splitvote/ingest/store_reader.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <mutex>
#include <string>

namespace splitvote::ingest {

struct results_options {
  /// Key of the tally digest a release keeps (did the tally change since?).
  std::string token_key;
  std::chrono::milliseconds release_interval{60000};      // before the second release; doubles after each
  std::chrono::milliseconds final_release_after{330000};  // the close's release waits this long after the close
  /// What one read of Kafka's metadata (the topic's watermarks and the stores' committed
  /// positions, for the lag) may take in all, however many round trips it makes.
  std::chrono::milliseconds kafka_read_budget{1000};
};

class results_reader {
public:
  results_reader(results_options options, catalog_store& catalog, store_reader& stores, envelope_sink& sink);

  /// The body of GET /v1/polls/{id}/results for `p` (the caller checked who may see it). May
  /// draw and store the poll's next noisy release when the rule says so.
  boost::json::object read(const catalog::poll& p);

private:
  struct released_counts;
  /// The counts to show: the raw tally without release noise, else the poll's current
  /// release, drawn anew only when the tally changed and the rule allows.
  released_counts release_for(const catalog::poll& p, const privacy::tally& t, bool consistent);
  /// Both stores' positions: read at most once a second, by one request at a time; a request
  /// that comes while another reads takes the last answer (none at first) instead of waiting,
  /// so a slow or frozen Kafka costs one worker, not one per results request.
  envelope_sink::positions positions();

  results_options options_;
  catalog_store& catalog_;
  store_reader& stores_;
  envelope_sink& sink_;
  std::mutex positions_read_mutex_;  // held while positions() reads Kafka
  std::mutex positions_mutex_;       // guards the two below
  envelope_sink::positions positions_;
  std::chrono::steady_clock::time_point positions_at_{};
};

}  // namespace splitvote::ingest
