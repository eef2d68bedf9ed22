#include "splitvote/ingest/recent_voters.hpp"

namespace splitvote::ingest {

bool recent_voters::reserve(const privacy::actor_key& key, clock::time_point now) {
  std::lock_guard lock(mutex_);
  return entries_.try_emplace(key, entry{now}).second;
}

void recent_voters::release(const privacy::actor_key& key) {
  std::lock_guard lock(mutex_);
  entries_.erase(key);
}

void recent_voters::delivered(const privacy::actor_key& key, int partition, std::int64_t offset) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    it->second.partition = partition;
    it->second.offset = offset;
  }
}

std::size_t recent_voters::forget_stored(const std::map<int, std::int64_t>& positions, clock::time_point observed) {
  std::lock_guard lock(mutex_);
  const auto horizon = observed - max_age_;
  std::size_t stored = 0, expired = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const entry& e = it->second;
    const auto pos = e.partition < 0 ? positions.end() : positions.find(e.partition);
    if (pos != positions.end() && e.offset < pos->second) {
      ++stored;
      it = entries_.erase(it);
    } else if (e.reserved < horizon) {
      ++expired;
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  if (stored > 0) forgot_stored_at_ = observed;
  return stored + expired;
}

std::size_t recent_voters::forget_expired(clock::time_point now) { return forget_stored({}, now); }

bool recent_voters::lookup_current(clock::time_point started) const {
  std::lock_guard lock(mutex_);
  return started >= forgot_stored_at_;
}

std::size_t recent_voters::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace splitvote::ingest
