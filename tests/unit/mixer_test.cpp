#include "splitvote/consumer/mixer.hpp"
#include "splitvote/consumer/position.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <set>

using namespace splitvote;
using consumer::mix_key;
using consumer::mixer;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

const std::string poll_a = "a", poll_b = "b";

mix_key vote(const std::string& poll, std::int64_t offset, int partition = 0) {
  return {partition, offset, poll, true};
}
mix_key cover(const std::string& poll, std::int64_t offset, int partition = 0) {
  return {partition, offset, poll, false};
}

/// A mixer drawing on its own seeded randomness, and the time the case starts at.
struct seeded_mixer {
  seeded_mixer(std::uint64_t seed, const consumer::mix_settings& o) : rng(random::seeded_source(seed)), m(o, *rng) {}
  std::unique_ptr<random::random_source> rng;
  mixer<int> m;
  const clock_type::time_point t = clock_type::now();
};

}  // namespace

TEST_CASE("a poll's envelopes are held until k of its votes wait, covers not counted", "[unit][mixing]") {
  seeded_mixer mixing(1, {4, 4, 60s, 0});
  auto& [rng, m, t] = mixing;
  CHECK_FALSE(m.add(vote(poll_a, 0), 0, t));
  CHECK_FALSE(m.add(cover(poll_a, 1), 1, t));
  CHECK_FALSE(m.add(vote(poll_b, 2), 2, t));  // another poll's vote does not help poll a
  CHECK_FALSE(m.add(vote(poll_a, 3), 3, t));
  CHECK_FALSE(m.add(cover(poll_a, 4), 4, t));
  CHECK_FALSE(m.add(vote(poll_a, 5), 5, t));
  CHECK(m.take_due(t).empty());
  CHECK(m.held() == 6);
  CHECK(m.add(vote(poll_a, 6), 6, t));  // the fourth vote of poll a
  const auto due = m.take_due(t);
  CHECK(std::multiset<int>(due.begin(), due.end()) == std::multiset<int>{0, 1, 3, 4, 5, 6});
  CHECK(m.held() == 1);
  CHECK(m.polls() == 1);
  CHECK(m.held_offsets(0) == std::vector<std::int64_t>{2});  // poll b's vote stays unwritten
}

TEST_CASE("a quiet poll is written after a wait drawn in [max_wait/2, max_wait]", "[unit][mixing]") {
  seeded_mixer mixing(2, {10, 10, 1000ms, 0});
  auto& [rng, m, t] = mixing;
  m.add(vote(poll_a, 0), 0, t);
  m.add(vote(poll_a, 1), 1, t + 100ms);
  CHECK(m.take_due(t + 499ms).empty());
  CHECK(m.take_due(t + 1000ms).size() == 2);  // timed from the first that waits
  CHECK(m.held() == 0);
  CHECK(m.held_offsets(0).empty());

  // The wait is drawn per group: over many groups, both halves of the range are used.
  std::set<bool> early;
  for (int i = 0; i < 200; ++i) {
    const auto start = t + std::chrono::seconds(10 + i * 10);
    m.add(vote(poll_a, 10 + i), 0, start);
    const bool by_750 = !m.take_due(start + 750ms).empty();
    if (!by_750) REQUIRE(m.take_due(start + 1000ms).size() == 1);
    early.insert(by_750);
  }
  CHECK(early == std::set<bool>{false, true});
}

TEST_CASE("k is drawn afresh per batch over the whole range", "[unit][mixing]") {
  seeded_mixer mixing(3, {3, 7, 3600s, 0});
  auto& [rng, m, t] = mixing;
  std::map<std::size_t, int> sizes;
  std::int64_t offset = 0;
  for (int batch = 0; batch < 300; ++batch) {
    std::size_t n = 0;
    for (;;) {
      ++n;
      if (m.add(vote(poll_a, offset++), 0, t)) break;
      REQUIRE(n < 8);
    }
    REQUIRE(m.take_due(t).size() == n);
    ++sizes[n];
  }
  CHECK(sizes.begin()->first == 3);
  CHECK(sizes.rbegin()->first == 7);
  CHECK(sizes.size() == 5);
  for (const auto& [k, times] : sizes) CHECK(times > 300 / 5 / 2);  // roughly uniform
}

TEST_CASE("mixing off, and messages that did not decode, are due at once", "[unit][mixing]") {
  auto rng = random::seeded_source(4);
  const auto t = clock_type::now();
  mixer<int> off({1, 1, 3600s, 0.5}, *rng);
  CHECK(off.add(vote(poll_a, 0), 0, t));
  CHECK(off.add(cover(poll_a, 1), 1, t));
  CHECK(off.take_due(t).size() == 2);

  mixer<int> on({5, 5, 3600s, 0}, *rng);
  CHECK_FALSE(on.add(vote(poll_a, 7, 1), 7, t));
  CHECK(on.add({1, 8, "", false}, 8, t));
  CHECK(on.take_due(t) == std::vector<int>{8});
  CHECK(on.held_offsets(1) == std::vector<std::int64_t>{7});
  CHECK(on.held_offsets(0).empty());  // per partition
  on.clear();
  CHECK(on.held() == 0);
  CHECK_THROWS_AS(mixer<int>({0, 1, 1s}, *rng), std::invalid_argument);
  CHECK_THROWS_AS(mixer<int>({5, 4, 1s}, *rng), std::invalid_argument);
  CHECK_THROWS_AS(mixer<int>({5, 5, 1s, 1.0}, *rng), std::invalid_argument);
  CHECK_THROWS_AS(mixer<int>({5, 5, 1s, -0.1}, *rng), std::invalid_argument);
}

TEST_CASE(
    "a due crowd keeps some envelopes back for the next batch, never so many that fewer than min_real votes leave",
    "[unit][mixing]") {
  seeded_mixer mixing(5, {4, 12, 3600s, 0.5});
  auto& [rng, m, t] = mixing;
  std::map<std::int64_t, int> arrived_in, left_in;  // offset -> batch it arrived before / left in
  std::int64_t offset = 0;
  for (int batch = 0; batch < 400; ++batch) {
    for (bool due = false; !due; ++offset) {
      arrived_in[offset] = batch;
      due = m.add(vote(poll_a, offset), static_cast<int>(offset), t);
    }
    const auto out = m.take_due(t);
    REQUIRE(out.size() >= 4);  // at least min_real votes leave
    for (const int o : out) left_in[o] = batch;
    // The stored position keeps exactly what is still held.
    const auto held = m.held_offsets(0);
    REQUIRE(held.size() == m.held());
    for (const auto o : held) REQUIRE(left_in.count(o) == 0);
  }
  // How many batches after its arrival a vote leaves: about half in the batch its arrival
  // completed, a quarter in the next, and so on: a run of the topic's order is not a batch.
  std::map<int, int> later;
  for (const auto& [o, b] : left_in) ++later[std::min(b - arrived_in.at(o), 3)];
  const double n = static_cast<double>(left_in.size());
  INFO("left at once " << later[0] << ", one batch later " << later[1] << ", two " << later[2] << ", three or more "
                       << later[3] << " of " << n);
  CHECK(later[0] / n > 0.4);
  CHECK(later[0] / n < 0.8);
  CHECK(later[1] / n > 0.1);
  CHECK(later[2] / n > 0.02);
  CHECK(m.held() > 0);

  // Kept votes still leave by max_wait, timed from the oldest of them.
  mixer<int> w({2, 2, 1000ms, 0.5}, *rng);
  int kept_total = 0;
  for (int round = 0; round < 50; ++round) {
    const auto start = t + std::chrono::seconds(10 * round);
    w.add(vote(poll_b, 3 * round), 0, start);
    w.add(vote(poll_b, 3 * round + 1), 1, start + 10ms);
    w.add(vote(poll_b, 3 * round + 2), 2, start + 20ms);
    const auto first = w.take_due(start + 20ms);
    REQUIRE(first.size() >= 2);
    kept_total += static_cast<int>(w.held());
    CHECK(w.take_due(start + 20ms + 400ms).empty());  // under max_wait/2 from the oldest kept
    w.take_due(start + 1020ms);                       // max_wait after the oldest: all out
    REQUIRE(w.held() == 0);
  }
  CHECK(kept_total > 0);
}

TEST_CASE("a stored position round-trips sealed, tells only a power of two of its size, and opens with no other key",
          "[unit][mixing]") {
  std::array<unsigned char, 32> secret{};
  secret.fill(7);
  const auto key = consumer::derive_position_key(secret);
  secret.fill(8);
  const auto other = consumer::derive_position_key(secret);
  const consumer::position p{1000, {3, 17, 999}};
  const auto sealed = consumer::seal_position(p, key);
  CHECK(consumer::open_position(sealed, {other, key}) == p);  // any key of a rotation
  CHECK_THROWS(consumer::open_position(sealed, {other}));
  CHECK(sealed != consumer::seal_position(p, key));  // a fresh nonce each time
  // The position is not there in the clear (its whole encoding: two bytes alone would turn up
  // in random ciphertext now and then).
  CHECK(sealed.find(consumer::seal_position(p, std::nullopt).substr(1)) == std::string::npos);
  // 3 and 60 held offsets: the same length; 65: the next size up.
  const auto with = [&](std::size_t n) {
    consumer::position q{100000, {}};
    for (std::size_t i = 0; i < n; ++i) q.held.push_back(static_cast<std::int64_t>(i));
    return consumer::seal_position(q, key).size();
  };
  CHECK(with(3) == with(60));
  CHECK(with(65) > with(64));
  CHECK(consumer::open_position(consumer::seal_position(p, std::nullopt), {}) == p);  // plain, without a key
  CHECK_THROWS(consumer::open_position("S short", {key}));
  CHECK_THROWS(consumer::open_position("", {key}));
}

TEST_CASE("a crowd that did not form by its wait is marked on one vote with the votes it lacks", "[unit][mixing]") {
  seeded_mixer mixing(6, {5, 5, 1000ms, 0.5});
  auto& [rng, m, t] = mixing;
  m.add(cover(poll_a, 0), 0, t);
  m.add(vote(poll_a, 1), 1, t + 10ms);
  m.add(vote(poll_a, 2), 2, t + 20ms);
  std::vector<std::pair<int, std::size_t>> marked;
  const auto mark = [&](int& item, std::size_t missing) { marked.emplace_back(item, missing); };
  CHECK(m.take_due(t + 400ms, mark).empty());
  CHECK(marked.empty());
  CHECK(m.take_due(t + 1000ms, mark).size() == 3);
  REQUIRE(marked.size() == 1);
  CHECK((marked[0].first == 1 || marked[0].first == 2));  // a vote, not the cover
  CHECK(marked[0].second == 3);                           // 5 - 2

  // A crowd that formed by count is not marked; nor are covers alone, nor mixing off.
  marked.clear();
  for (int i = 0; i < 5; ++i) m.add(vote(poll_b, 10 + i), 10 + i, t);
  CHECK(m.take_due(t, mark).size() >= 5);
  m.add(cover(poll_b, 20), 20, t);
  m.take_due(t + 2000ms, mark);
  mixer<int> off({1, 1, 1000ms, 0}, *rng);
  off.add(vote(poll_a, 30), 30, t);
  off.take_due(t + 2000ms, mark);
  CHECK(marked.empty());
}
