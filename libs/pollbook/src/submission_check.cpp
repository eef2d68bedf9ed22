#include "splitvote/pollbook/submission_check.hpp"

#include "splitvote/pollbook/queries.hpp"

#include "splitvote/observability/log.hpp"

#include <map>

namespace splitvote::pollbook {
namespace {

void call(const submission_check::done_fn& done, std::exception_ptr error, bool submitted) {
  try {
    done(std::move(error), submitted);
  } catch (const std::exception& e) {
    // A continuation must answer its own failures; one that throws must not stop the others.
    observability::log_error("submission_check_callback_failed", {{"error", e.what()}});
  }
}

}  // namespace

submission_check::submission_check(pg::pool& pollbook, std::size_t max_batch)
    : pool_(pollbook), max_batch_(max_batch), worker_([this](std::stop_token stop) { run(stop); }) {}

submission_check::~submission_check() {
  worker_.request_stop();
  if (worker_.joinable()) worker_.join();
  std::vector<lookup> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(queue_);
  }
  for (auto& l : left) call(l.done, std::make_exception_ptr(stopped{}), false);
}

void submission_check::submit(std::string poll_id, const actor_key& key, done_fn done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(poll_id), key, std::move(done)});
  }
  wake_.notify_one();
}

void submission_check::run(std::stop_token stop) {
  std::vector<lookup> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, stop, [&] { return !queue_.empty(); });
      if (stop.stop_requested()) return;  // what is queued is answered `stopped` by the destructor
      if (queue_.size() <= max_batch_) {
        batch.swap(queue_);
      } else {
        const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(max_batch_);
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
        queue_.erase(queue_.begin(), end);
      }
    }
    answer(batch);
    batch.clear();
  }
}

void submission_check::answer(std::vector<lookup>& batch) {
  std::map<std::string, std::vector<std::size_t>> by_poll;
  for (std::size_t i = 0; i < batch.size(); ++i) by_poll[batch[i].poll_id].push_back(i);
  for (const auto& [poll_id, indices] : by_poll) {
    std::vector<actor_key> keys;
    keys.reserve(indices.size());
    for (auto i : indices) keys.push_back(batch[i].key);
    std::vector<bool> submitted;
    std::exception_ptr error;
    try {
      auto c = pool_.acquire();
      submitted = submitted_among(*c, poll_id, keys);
    } catch (...) {
      error = std::current_exception();
    }
    for (std::size_t j = 0; j < indices.size(); ++j) call(batch[indices[j]].done, error, !error && submitted[j]);
  }
}

}  // namespace splitvote::pollbook
