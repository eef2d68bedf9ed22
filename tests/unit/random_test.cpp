#include "splitvote/random/random_source.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <vector>

using namespace splitvote::random;

TEST_CASE("seeded sources repeat and differ by seed", "[unit]") {
  auto a = seeded_source(7), b = seeded_source(7), c = seeded_source(8);
  std::vector<std::uint64_t> va, vb, vc;
  for (int i = 0; i < 1000; ++i) {
    va.push_back(a->next_u64());
    vb.push_back(b->next_u64());
    vc.push_back(c->next_u64());
  }
  CHECK(va == vb);
  CHECK(va != vc);
}

TEST_CASE("uniform(bound) stays in range and hits every value", "[unit]") {
  auto rng = seeded_source(1);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const auto v = rng->uniform(7);
    REQUIRE(v < 7);
    ++counts[v];
  }
  for (int c : counts) CHECK(std::abs(c - 10000) < 500);  // > 5 sd
  CHECK_THROWS_AS(rng->uniform(0), std::invalid_argument);
}

TEST_CASE("random ids are distinct and print as uuids", "[unit]") {
  auto rng = system_source();
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto text = to_uuid_text(random_id(*rng));
    CHECK(is_uuid_text(text));
    seen.insert(text);
  }
  CHECK(seen.size() == 1000);
  CHECK_FALSE(is_uuid_text("not-a-uuid"));
  CHECK_FALSE(is_uuid_text("00000000-0000-0000-0000-00000000000G"));
  CHECK_FALSE(is_uuid_text("../../etc/passwd"));
}
