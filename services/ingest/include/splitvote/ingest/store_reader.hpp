// What ingest reads of the two stores: "has this actor voted?" (batched), participation, ballot counts.
#pragma once

#include "splitvote/pollbook/participation.hpp"
#include "splitvote/privacy/actor_key.hpp"
#include "splitvote/privacy/estimate.hpp"

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>

namespace splitvote::pg {
class pool;
}

namespace splitvote::ingest {

class store_reader {
public:
  /// Runs exactly once, on a thread of the reader's (never the caller's stack): with the
  /// answer, or with the failure (a problem_error when the reader is shutting down).
  using voted_fn = std::function<void(std::exception_ptr error, bool voted)>;

  /// Destruction answers every lookup still queued (with a failure) before it returns.
  virtual ~store_reader() = default;

  /// Asks the pollbook whether the actor has a submission in the poll.
  virtual void has_voted(std::string poll_id, const privacy::actor_key& key, voted_fn done) = 0;
  /// The pollbook's participation in one snapshot.
  virtual pollbook::participation participation(const std::string& poll_id) = 0;
  /// The ballotbox's counts per choice and its envelope count, in one snapshot.
  virtual privacy::tally tally(const std::string& poll_id, std::size_t choices) = 0;
  /// Whether both stores answer now.
  virtual bool reachable() = 0;
};

/// The pollbook and ballotbox in PostgreSQL, read through their pools (which must outlive
/// it); the lookups of concurrent votes go as one query per poll (pollbook::submission_check).
std::unique_ptr<store_reader> stores_in(pg::pool& pollbook, pg::pool& ballotbox);

}  // namespace splitvote::ingest
