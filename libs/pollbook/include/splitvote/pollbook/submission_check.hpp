// Batches the "has this actor voted in this poll?" lookups of concurrent votes into one query per poll, off the
// caller's thread.
#pragma once

#include "splitvote/pg/pool.hpp"

#include <array>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace splitvote::pollbook {

/// One worker thread asks the pollbook about every lookup queued while its previous query
/// ran: under load one round trip answers hundreds of votes, and the HTTP threads never wait
/// on PostgreSQL. Each `done` runs exactly once, on the worker thread: with the answer, or
/// with the exception the query ended in (pg::unavailable, pqxx::broken_connection, ...), or
/// with `stopped` when the checker is destroyed first.
class submission_check {
public:
  using actor_key = std::array<std::byte, 32>;
  using done_fn = std::function<void(std::exception_ptr error, bool submitted)>;
  struct stopped : std::runtime_error {
    stopped() : std::runtime_error("the submission check is shutting down") {}
  };

  /// `max_batch` bounds the keys of one query.
  explicit submission_check(pg::pool& pollbook, std::size_t max_batch = 1000);
  ~submission_check();
  submission_check(const submission_check&) = delete;
  submission_check& operator=(const submission_check&) = delete;

  void submit(std::string poll_id, const actor_key& key, done_fn done);

private:
  struct lookup {
    std::string poll_id;
    actor_key key;
    done_fn done;
  };
  void run(std::stop_token stop);
  void answer(std::vector<lookup>& batch);

  pg::pool& pool_;
  const std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::vector<lookup> queue_;
  std::jthread worker_;  // last: it starts once everything above exists
};

}  // namespace splitvote::pollbook
