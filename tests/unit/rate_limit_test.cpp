#include "splitvote/http/rate_limit.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace splitvote::http;
using namespace std::chrono_literals;

namespace {
/// A clock the test moves by hand.
struct manual_clock {
  rate_limiter::clock::time_point now{rate_limiter::clock::time_point{} + 1h};
  rate_limiter::now_fn fn() {
    return [this] { return now; };
  }
};
}  // namespace

TEST_CASE("a bucket allows its burst, then the rate, and says when to retry", "[unit]") {
  manual_clock t;
  rate_limiter limiter({.per_second = 2, .burst = 5}, 1000, t.fn());
  for (int i = 0; i < 5; ++i) CHECK(limiter.take("10.0.0.1").allowed);
  const auto refused = limiter.take("10.0.0.1");
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after == 1s);         // half a second to the next token, rounded up
  CHECK(limiter.take("10.0.0.2").allowed);  // another key has its own bucket

  t.now += 500ms;  // one token back
  CHECK(limiter.take("10.0.0.1").allowed);
  CHECK_FALSE(limiter.take("10.0.0.1").allowed);
  t.now += 10s;  // refilled to the burst, not beyond it
  for (int i = 0; i < 5; ++i) CHECK(limiter.take("10.0.0.1").allowed);
  CHECK_FALSE(limiter.take("10.0.0.1").allowed);
}

TEST_CASE("Retry-After covers a slow rate", "[unit]") {
  manual_clock t;
  rate_limiter limiter({.per_second = 0.1, .burst = 1}, 1000, t.fn());  // one per 10 s
  CHECK(limiter.take("a").allowed);
  CHECK(limiter.take("a").retry_after == 10s);
  t.now += 4s;
  CHECK(limiter.take("a").retry_after == 6s);
  t.now += 6s;
  CHECK(limiter.take("a").allowed);
}

TEST_CASE("a limit of 0 is no limit and holds no memory", "[unit]") {
  rate_limiter limiter({.per_second = 0, .burst = 0});
  CHECK_FALSE(limiter.enabled());
  for (int i = 0; i < 10000; ++i) CHECK(limiter.take("k").allowed);
  CHECK(limiter.size() == 0);
}

TEST_CASE("memory stays bounded: refilled buckets are dropped, then the least recently used", "[unit]") {
  manual_clock t;
  rate_limiter limiter({.per_second = 1, .burst = 2}, 1600, t.fn());  // 16 shards of 100
  for (int i = 0; i < 100000; ++i) limiter.take("client-" + std::to_string(i));
  CHECK(limiter.size() <= 1600);
  CHECK(limiter.size() >= 1000);  // shards fill about evenly
  // Two seconds later every bucket is full again: takes sweep them away from each shard.
  t.now += 2s;
  for (int i = 0; i < 800; ++i) limiter.take("later-" + std::to_string(i));
  CHECK(limiter.size() <= 800);
  // Keys are cut at 64 bytes.
  const std::string long_key(1000, 'x');
  CHECK(limiter.take(long_key).allowed);
  CHECK(limiter.take(long_key.substr(0, 64)).allowed);
  CHECK_FALSE(limiter.take(long_key + "y").allowed);  // the same first 64 bytes: the same bucket
}

TEST_CASE("when every bucket is in use the least recently used goes, and its key starts afresh", "[unit]") {
  manual_clock t;                                                   // no time passes: nothing refills
  rate_limiter limiter({.per_second = 1, .burst = 1}, 16, t.fn());  // one bucket per shard
  CHECK(limiter.take("a").allowed);
  CHECK_FALSE(limiter.take("a").allowed);
  for (int i = 0; i < 200; ++i) limiter.take("other-" + std::to_string(i));
  CHECK(limiter.size() <= 16);
  CHECK(limiter.take("a").allowed);
}

TEST_CASE("concurrent takes never grant more than the burst", "[unit]") {
  manual_clock t;  // the clock stands still: no refill
  rate_limiter limiter({.per_second = 1, .burst = 1000}, 1000, t.fn());
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < 4; ++n)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (limiter.take("shared").allowed) ++granted;
    });
  for (auto& th : threads) th.join();
  CHECK(granted == 1000);
}
