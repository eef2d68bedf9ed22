#include "splitvote/ingest/store_reader.hpp"

#include "splitvote/ballotbox/queries.hpp"
#include "splitvote/ingest/problems.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/pollbook/queries.hpp"
#include "splitvote/pollbook/submission_check.hpp"

namespace splitvote::ingest {

namespace {

class pg_stores final : public store_reader {
public:
  pg_stores(pg::pool& pollbook, pg::pool& ballotbox) : pollbook_(pollbook), ballotbox_(ballotbox), checks_(pollbook) {}

  void has_voted(std::string poll_id, const privacy::actor_key& key, voted_fn done) override {
    checks_.submit(std::move(poll_id), key, [done = std::move(done)](std::exception_ptr error, bool voted) {
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const pollbook::submission_check::stopped&) {
          error = std::make_exception_ptr(problems::unavailable("shutting down; the vote was not counted, try again"));
        } catch (...) {
        }
      }
      done(error, voted);
    });
  }

  pollbook::participation participation(const std::string& poll_id) override {
    auto c = pollbook_.acquire();
    pg::snapshot_read tx(*c);
    return pollbook::count_participation(tx, poll_id);
  }

  privacy::tally tally(const std::string& poll_id, std::size_t choices) override {
    auto c = ballotbox_.acquire();
    pg::snapshot_read tx(*c);  // C_j and n from one snapshot
    return ballotbox::count_ballots(tx, poll_id, choices);
  }

  bool reachable() override { return pollbook_.ping() && ballotbox_.ping(); }

private:
  pg::pool& pollbook_;
  pg::pool& ballotbox_;
  pollbook::submission_check checks_;  // last: its worker stops first, answering what is queued
};

}  // namespace

std::unique_ptr<store_reader> stores_in(pg::pool& pollbook, pg::pool& ballotbox) {
  return std::make_unique<pg_stores>(pollbook, ballotbox);
}

}  // namespace splitvote::ingest
