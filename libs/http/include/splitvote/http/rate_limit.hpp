// Token buckets by key (client address, poll id): rate, burst, bounded memory, thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace splitvote::http {

struct rate_limit {
  double per_second = 0;  // tokens added per second; 0: no limit
  double burst = 0;       // bucket size: requests allowed at once after a quiet period
  bool enabled() const { return per_second > 0; }
};

/// One token bucket per key. A key unseen, or idle long enough that its bucket is full again,
/// starts with `burst` tokens; each request takes one. Memory is bounded: a bucket that has
/// refilled is indistinguishable from no bucket and is dropped, and when `max_keys` buckets
/// are all in use the least recently used one goes (its key starts afresh: an attacker with
/// more addresses than `max_keys` gets some extra allowance, never unbounded memory).
class rate_limiter {
public:
  using clock = std::chrono::steady_clock;
  using now_fn = std::function<clock::time_point()>;

  explicit rate_limiter(rate_limit limit, std::size_t max_keys = 100000, now_fn now = clock::now);

  struct decision {
    bool allowed = true;
    std::chrono::seconds retry_after{0};  // when refused: until a token is there, rounded up (>= 1 s)
  };
  /// Takes a token for `key` (keys longer than 64 bytes are cut: poll ids are 36).
  decision take(std::string_view key);

  bool enabled() const { return limit_.enabled(); }
  /// Buckets held now (for tests and metrics).
  std::size_t size() const;

private:
  struct bucket {
    double tokens;
    clock::time_point updated;
    std::list<std::string>::iterator order;  // position in shard::recent
  };
  struct shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, bucket> buckets;
    std::list<std::string> recent;  // most recently used first
  };
  static constexpr std::size_t shard_count = 16;

  rate_limit limit_;
  std::size_t max_per_shard_;
  now_fn now_;
  std::chrono::nanoseconds refill_time_;  // from empty to full
  std::vector<shard> shards_;
};

}  // namespace splitvote::http
