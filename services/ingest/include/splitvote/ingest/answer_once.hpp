// The answer to one request, given once: by its work, or by a deadline when the work is slower.
#pragma once

#include "splitvote/http/message.hpp"

#include <memory>
#include <mutex>
#include <utility>

namespace splitvote::ingest {

/// Shared by a request's work and its deadlines (each on its own thread). Whoever answers
/// first takes the callback out, so a timer that still holds this no longer holds the client's
/// connection open. Before its point of no return the work can still be given up: then the
/// request deadline answers "not done, try again" and the work, when it gets to run, stops.
/// After `commit()` (a vote handed to Kafka) only the work and its own deadline answer.
class answer_once {
public:
  explicit answer_once(http::respond_fn respond) : respond_(std::move(respond)) {}

  /// The callback if nobody has answered yet; empty after the first call.
  http::respond_fn take() {
    std::lock_guard lock(mutex_);
    return std::exchange(respond_, nullptr);
  }
  /// The callback unless the work answered or committed: for the request deadline.
  http::respond_fn take_uncommitted() {
    std::lock_guard lock(mutex_);
    if (committed_) return nullptr;
    return std::exchange(respond_, nullptr);
  }
  /// The work passes its point of no return. False if the request was answered already (the
  /// deadline came first): the work must not go on.
  bool commit() {
    std::lock_guard lock(mutex_);
    if (!respond_) return false;
    committed_ = true;
    return true;
  }
  /// True once somebody answered.
  bool answered() {
    std::lock_guard lock(mutex_);
    return !respond_;
  }
  /// A respond_fn for the work: answers through take(), or does nothing once answered.
  static http::respond_fn responder(std::shared_ptr<answer_once> self) {
    return [self = std::move(self)](http::response r) {
      if (auto respond = self->take()) respond(std::move(r));
    };
  }

private:
  std::mutex mutex_;
  http::respond_fn respond_;
  bool committed_ = false;
};

}  // namespace splitvote::ingest
