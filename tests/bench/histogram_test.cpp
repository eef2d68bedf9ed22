// The bench tool's latency histogram: bucket edges and percentiles against known data.
#include "splitvote/bench/histogram.hpp"

#include <catch2/catch.hpp>

using splitvote::bench::histogram;

TEST_CASE("small values are exact", "[bench]") {
  histogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
  CHECK(h.count() == 100);
  CHECK(h.value_at(0.5) == 50);
  CHECK(h.value_at(0.99) == 99);
  CHECK(h.value_at(1.0) == 100);
  CHECK(h.min() == 1);
  CHECK(h.mean() == Approx(50.5));
}

TEST_CASE("large values stay within 1/64 and are never under-reported", "[bench]") {
  for (std::uint64_t v : {128ull, 129ull, 1000ull, 4097ull, 123456ull, 987654321ull}) {
    histogram h;
    h.record(v);
    h.record(1);
    const auto p = h.value_at(0.75);  // the bucket holding v, capped at the exact max
    CHECK(p == v);
    histogram g;
    g.record(v);
    g.record(v * 2);
    CHECK(g.value_at(0.5) >= v);
    CHECK(g.value_at(0.5) <= v + v / 64);
  }
}

TEST_CASE("merging adds counts", "[bench]") {
  histogram a, b;
  for (int i = 0; i < 990; ++i) a.record(1000);
  for (int i = 0; i < 10; ++i) b.record(50000);
  a.merge(b);
  CHECK(a.count() == 1000);
  CHECK(a.max() == 50000);
  CHECK(a.value_at(0.99) <= 1000 + 1000 / 64);
  CHECK(a.value_at(0.999) >= 50000);
  std::uint64_t total = 0;
  for (const auto& [edge, n] : a.buckets()) total += n;
  CHECK(total == 1000);
}
