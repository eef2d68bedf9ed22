#include "splitvote/http/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace splitvote::http {

rate_limiter::rate_limiter(rate_limit limit, std::size_t max_keys, now_fn now)
    : limit_{limit.per_second, std::max(limit.burst, 1.0)},
      max_per_shard_(std::max<std::size_t>(1, max_keys / shard_count)),
      now_(std::move(now)),
      refill_time_(limit.per_second > 0 ? std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::duration<double>(limit_.burst / limit.per_second))
                                        : std::chrono::nanoseconds(0)),
      shards_(shard_count) {}

rate_limiter::decision rate_limiter::take(std::string_view key) {
  if (!enabled()) return {};
  key = key.substr(0, 64);
  const auto now = now_();
  shard& s = shards_[std::hash<std::string_view>{}(key) % shard_count];
  std::lock_guard lock(s.mutex);
  // Buckets full again are as good as none: drop them from the cold end (amortised O(1)).
  while (!s.recent.empty()) {
    const auto it = s.buckets.find(s.recent.back());
    if (now - it->second.updated < refill_time_) break;
    s.buckets.erase(it);
    s.recent.pop_back();
  }
  auto it = s.buckets.find(std::string(key));
  if (it == s.buckets.end()) {
    if (s.buckets.size() >= max_per_shard_) {
      s.buckets.erase(s.recent.back());
      s.recent.pop_back();
    }
    s.recent.emplace_front(key);
    it = s.buckets.emplace(s.recent.front(), bucket{limit_.burst, now, s.recent.begin()}).first;
  } else {
    const double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
    it->second.tokens = std::min(limit_.burst, it->second.tokens + std::max(0.0, elapsed) * limit_.per_second);
    it->second.updated = std::max(it->second.updated, now);
    s.recent.splice(s.recent.begin(), s.recent, it->second.order);
  }
  bucket& b = it->second;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  const double wait = (1.0 - b.tokens) / limit_.per_second;
  return {false, std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(wait))))};
}

std::size_t rate_limiter::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace splitvote::http
