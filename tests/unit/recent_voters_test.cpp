#include "splitvote/ingest/recent_voters.hpp"

#include <catch2/catch.hpp>

using namespace splitvote;
using ingest::recent_voters;
using namespace std::chrono_literals;

namespace {
privacy::actor_key key(unsigned char n) {
  privacy::actor_key k{};
  k.fill(std::byte{n});
  return k;
}
}  // namespace

TEST_CASE("a reserved actor is refused until released", "[unit]") {
  recent_voters r;
  CHECK(r.reserve(key(1)));
  CHECK_FALSE(r.reserve(key(1)));
  CHECK(r.reserve(key(2)));
  r.release(key(1));
  CHECK(r.reserve(key(1)));
  CHECK(r.size() == 2);
}

TEST_CASE("reservations are forgotten once the pollbook's positions pass their offsets", "[unit]") {
  recent_voters r;
  const auto t0 = recent_voters::clock::now();
  REQUIRE(r.reserve(key(1), t0));
  REQUIRE(r.reserve(key(2), t0));
  REQUIRE(r.reserve(key(3), t0));  // never delivered: stays
  r.delivered(key(1), 0, 10);
  r.delivered(key(2), 1, 5);

  // Partition 0 stored up to offset 10 exclusive: key 1 (offset 10) is not stored yet.
  CHECK(r.forget_stored({{0, 10}, {1, 5}}, t0 + 1ms) == 0);
  CHECK(r.size() == 3);
  CHECK(r.lookup_current(t0));  // nothing forgotten: every lookup's answer stands

  CHECK(r.forget_stored({{0, 11}}, t0 + 2ms) == 1);  // key 1 only: partition 1 unknown
  CHECK_FALSE(r.reserve(key(2), t0 + 2ms));
  CHECK(r.reserve(key(1), t0 + 2ms));  // forgotten: from now on the pollbook lookup answers for it
  CHECK(r.size() == 3);
}

TEST_CASE("a lookup begun before a forgetting observation is not trusted", "[unit]") {
  recent_voters r;
  const auto t0 = recent_voters::clock::now();
  REQUIRE(r.reserve(key(1), t0));
  r.delivered(key(1), 0, 0);
  const auto lookup_started = t0 + 1ms;
  REQUIRE(r.forget_stored({{0, 1}}, t0 + 2ms) == 1);
  CHECK_FALSE(r.lookup_current(lookup_started));
  CHECK(r.lookup_current(t0 + 2ms));
  CHECK(r.lookup_current(t0 + 3ms));
}

TEST_CASE("reservations older than the maximum age go, stored or not", "[unit]") {
  recent_voters r(1min);
  const auto t0 = recent_voters::clock::now();
  REQUIRE(r.reserve(key(1), t0));
  REQUIRE(r.reserve(key(2), t0 + 30s));
  CHECK(r.forget_expired(t0 + 59s) == 0);
  CHECK(r.forget_expired(t0 + 61s) == 1);
  CHECK(r.size() == 1);
  CHECK(r.lookup_current(t0));  // age alone says nothing about what the pollbook holds
}
