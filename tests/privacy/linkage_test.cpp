// The linkage attack suite: a thief with both databases tries to tell who voted how.
// It attacks what a snapshot shows (transaction ids, physical row order, batch membership)
// and reports, per actor, its guess and its confidence. Weak settings must fall to it;
// the defaults must keep it within the privacy statement's bound; a scrub must blind it.
#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/pg/scrub.hpp"
#include "splitvote/pollbook/schema.hpp"
#include "splitvote/privacy/actor_key.hpp"
#include "splitvote/random/random_source.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/stack.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <set>

using namespace splitvote;
using namespace splitvote::testing;
using svc = stack::service;

namespace {

struct actor_row {
  std::string key;  // hex actor key, as stored
  std::int64_t xmin;
  std::int64_t position;  // physical order (ctid)
};

struct ballot_row {
  int choice;
  std::int64_t xmin;
  std::int64_t position;
};

struct snapshot {
  std::vector<actor_row> actors;
  std::vector<ballot_row> ballots;
};

/// Everything a thief reads from the two databases, system columns included.
snapshot take_snapshot(const stack& s, const std::string& poll_id) {
  snapshot out;
  {
    auto c = pg::connect(s.main_dsn());
    pqxx::read_transaction tx(*c);
    std::int64_t pos = 0;
    for (const auto& r : tx.exec_params("SELECT encode(actor_key, 'hex'), xmin::text::bigint FROM pollbook.submissions"
                                        " WHERE poll_id = $1::uuid ORDER BY ctid", poll_id))
      out.actors.push_back({r[0].as<std::string>(), r[1].as<std::int64_t>(), pos++});
  }
  {
    auto c = pg::connect(s.ballot_dsn());
    pqxx::read_transaction tx(*c);
    std::int64_t pos = 0;
    for (const auto& r : tx.exec_params("SELECT choice, xmin::text::bigint FROM ballotbox.ballots"
                                        " WHERE poll_id = $1::uuid ORDER BY ctid", poll_id))
      out.ballots.push_back({r[0].as<int>(), r[1].as<std::int64_t>(), pos++});
  }
  return out;
}

struct verdict {
  int guess;
  double confidence;
};

/// The attack: order both stores by transaction id (arrival), cut the ballotbox into its
/// transactions (batches), put each actor in the batch at the same relative position of
/// the stream, and guess the choice that batch holds most of. Confidence is the posterior a
/// careful attacker can claim: the batch's share for the choice, pushed through randomized
/// response (1 − p + p/m if the share is 1).
std::map<std::string, verdict> attack(const snapshot& snap, int m, double p) {
  auto actors = snap.actors;
  auto ballots = snap.ballots;
  std::stable_sort(actors.begin(), actors.end(), [](const auto& a, const auto& b) { return a.xmin < b.xmin; });
  std::stable_sort(ballots.begin(), ballots.end(), [](const auto& a, const auto& b) { return a.xmin < b.xmin; });
  // Batches of the ballotbox: runs of one xmin.
  std::vector<std::pair<std::size_t, std::size_t>> batches;  // [begin, end) in `ballots`
  for (std::size_t i = 0; i < ballots.size();) {
    std::size_t j = i;
    while (j < ballots.size() && ballots[j].xmin == ballots[i].xmin) ++j;
    batches.emplace_back(i, j);
    i = j;
  }
  std::map<std::string, verdict> out;
  for (std::size_t r = 0; r < actors.size(); ++r) {
    // As many batches as actors: one envelope per batch, so the r-th batch is the r-th
    // actor's. Otherwise the batch at the same fraction of the ballot stream.
    const double at = (r + 0.5) / actors.size() * ballots.size();
    const auto batch = batches.size() == actors.size()
                           ? batches[r]
                           : *std::find_if(batches.begin(), batches.end(), [&](const auto& b) { return at < b.second; });
    std::vector<double> counts(m, 0);
    for (std::size_t i = batch.first; i < batch.second; ++i) counts[ballots[i].choice] += 1;
    const int guess = static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
    const double share = counts[guess] / static_cast<double>(batch.second - batch.first);
    out[actors[r].key] = {guess, share * (1 - p + p / m) + (1 - share) * (p / m)};
  }
  return out;
}

struct score {
  double accuracy;
  double max_confidence;
  int certain;  // actors guessed with confidence 1
};

score judge(const std::map<std::string, verdict>& verdicts, const std::map<std::string, int>& truth) {
  score s{0, 0, 0};
  for (const auto& [key, v] : verdicts) {
    s.accuracy += v.guess == truth.at(key);
    s.max_confidence = std::max(s.max_confidence, v.confidence);
    s.certain += v.confidence >= 1.0;
  }
  s.accuracy /= static_cast<double>(verdicts.size());
  return s;
}

/// Spearman's rho between the physical order of pollbook rows and the order of voting.
double order_leak(const snapshot& snap, const std::map<std::string, int>& voted_at) {
  const double n = static_cast<double>(snap.actors.size());
  double d2 = 0;
  for (const auto& a : snap.actors) {
    const double d = static_cast<double>(voted_at.at(a.key) - a.position);
    d2 += d * d;
  }
  return 1 - 6 * d2 / (n * (n * n - 1));
}

struct electorate {
  std::vector<vote> votes;
  std::map<std::string, int> truth;     // actor key (hex) -> true choice
  std::map<std::string, int> voted_at;  // actor key (hex) -> position in the voting order
  double majority_share;
};

electorate make_electorate(const stack& s, const std::string& poll_id, int n, std::uint64_t seed) {
  auto rng = random::seeded_source(seed);
  electorate e;
  int yes = 0;
  for (int i = 0; i < n; ++i) {
    const int choice = static_cast<int>(rng->uniform(2));
    yes += choice == 0;
    const std::string actor = "voter-" + std::to_string(seed) + "-" + std::to_string(i);
    e.votes.push_back({actor, choice == 0 ? "yes" : "no"});
    const auto key = s.actor_key_hex(poll_id, actor);
    e.truth[key] = choice;
    e.voted_at[key] = i;
  }
  e.majority_share = std::max(yes, n - yes) / static_cast<double>(n);
  return e;
}

/// Votes one at a time, each stored by both consumers before the next: a quiet poll, the
/// hardest case for privacy (no other traffic to hide in).
void vote_slowly(const stack& s, const std::string& poll_id, const std::vector<vote>& votes) {
  auto pollbook = pg::connect(s.main_dsn());
  auto ballotbox = pg::connect(s.ballot_dsn());
  const auto stored = [&](int n) {
    pqxx::read_transaction a(*pollbook);
    const bool in_pollbook = a.exec_params("SELECT count(*) FROM pollbook.submissions WHERE poll_id = $1::uuid", poll_id)[0][0].as<int>() >= n;
    a.commit();
    pqxx::read_transaction b(*ballotbox);
    return in_pollbook && b.exec_params("SELECT coalesce(sum(envelopes), 0) FROM ballotbox.envelope_counts WHERE poll_id = $1::uuid",
                                        poll_id)[0][0].as<int>() >= n;
  };
  const auto cast = cast_votes(s.port(), poll_id, votes, 1, [&](int done) {
    REQUIRE(eventually([&] { return stored(done); }, std::chrono::seconds(10)));
  });
  REQUIRE(cast.accepted() == static_cast<int>(votes.size()));
}

struct statement {
  double p;      // randomized response
  double bound;  // the promised worst-case posterior, 1 − p + p/m
};

statement statement_of(const boost::json::object& results) {
  const auto& s = results.at("privacy_statement").as_object();
  return {s.at("randomized_response_p").to_number<double>(), s.at("worst_case_posterior").to_number<double>()};
}

bool all_stored(const boost::json::object& r, std::int64_t n) {
  return r.at("participation").as_object().at("unique_actors").as_int64() == n &&
         r.at("consistency").as_object().at("ballotbox_envelopes").as_int64() == n;
}

}  // namespace

TEST_CASE("weak settings: the attack recovers most votes (the suite has teeth)", "[privacy][linkage]") {
  // No decoys, no randomized response, one envelope per transaction, no scrub.
  stack s("linkage-weak", {{{"SPLITVOTE_BATCH__MIN", "1"}, {"SPLITVOTE_BATCH__MAX", "1"}, {"SPLITVOTE_SCRUB__INTERVAL_MS", "0"}}, {}});
  s.start_all();
  const auto poll = create_poll(s.port(), R"({"title":"Weak","choices":["yes","no"],
      "privacy":{"decoys":{"distribution":"none"},"randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})");
  const auto e = make_electorate(s, poll.id, 100, 1);
  vote_slowly(s, poll.id, e.votes);
  REQUIRE(all_stored(await_results(s.port(), poll, [](const auto& r) { return all_stored(r, 100); }), 100));

  const auto snap = take_snapshot(s, poll.id);
  const auto sc = judge(attack(snap, 2, 0), e.truth);
  const double rho = order_leak(snap, e.voted_at);
  std::cout << "linkage, weak settings: attack accuracy " << sc.accuracy << " (chance " << e.majority_share
            << "), actors guessed with confidence 1: " << sc.certain << "/100, row order vs voting order rho " << rho << "\n";
  CHECK(sc.accuracy > 0.8);
  CHECK(sc.certain > 50);
  CHECK(rho > 0.5);
}

TEST_CASE("the defaults: no vote recovered with certainty, accuracy within the bound, and a scrub blinds the attack",
          "[privacy][linkage]") {
  stack s("linkage-defaults", {{{"SPLITVOTE_BATCH__MIN", "1"}, {"SPLITVOTE_BATCH__MAX", "500"},
                                {"SPLITVOTE_BATCH__MAX_DELAY_MS", "200"}, {"SPLITVOTE_SCRUB__INTERVAL_MS", "0"}}, {}});
  s.start_all();
  const auto poll = create_poll(s.port(), R"({"title":"Defaults","choices":["yes","no"]})");  // product defaults
  const auto e = make_electorate(s, poll.id, 200, 2);
  vote_slowly(s, poll.id, e.votes);
  const auto results = await_results(s.port(), poll, [](const auto& r) { return all_stored(r, 200); });
  REQUIRE(all_stored(results, 200));
  const auto [p, bound] = statement_of(results);
  CHECK(bound == Approx(1 - p + p / 2));

  const auto before = take_snapshot(s, poll.id);
  const auto sc = judge(attack(before, 2, p), e.truth);
  // The bound holds for the attack's accuracy up to sampling error (3 sd over 200 actors).
  const double tolerance = 3 * std::sqrt(bound * (1 - bound) / 200);
  std::cout << "linkage, defaults before scrub: attack accuracy " << sc.accuracy << " (chance " << e.majority_share
            << ", bound " << bound << "), max confidence " << sc.max_confidence << ", certain " << sc.certain << "\n";
  CHECK(sc.certain == 0);
  CHECK(sc.max_confidence <= bound + 1e-12);
  CHECK(sc.accuracy <= bound + tolerance);

  // The scheduled scrub, run now: one xmin for all, rows in random order.
  {
    auto c = pg::connect(s.main_dsn());
    pg::scrub_tables(*c, pollbook::scrubbed_tables());
  }
  {
    auto c = pg::connect(s.ballot_dsn());
    pg::scrub_tables(*c, ballotbox::scrubbed_tables());
  }
  const auto after = take_snapshot(s, poll.id);
  REQUIRE(after.actors.size() == 200);
  const auto sc_after = judge(attack(after, 2, p), e.truth);
  const double rho = order_leak(after, e.voted_at);
  std::cout << "linkage, defaults after scrub: attack accuracy " << sc_after.accuracy << " (chance "
            << e.majority_share << "), row order vs voting order rho " << rho << "\n";
  // After the scrub the transaction ids are one and the row order is random: the attack can
  // do no better than guessing the overall majority.
  std::set<std::int64_t> xmins;
  for (const auto& b : after.ballots) xmins.insert(b.xmin);
  CHECK(xmins.size() == 1);
  CHECK(std::abs(rho) < 0.25);  // sd of rho for 200 random ranks is 0.071
  CHECK(sc_after.accuracy <= e.majority_share + 3 * std::sqrt(0.25 / 200));
}

TEST_CASE("the defaults with cover traffic: idle time no longer marks the batches", "[privacy][linkage]") {
  stack s("linkage-cover", {{{"SPLITVOTE_BATCH__MIN", "1"}, {"SPLITVOTE_BATCH__MAX", "500"},
                             {"SPLITVOTE_BATCH__MAX_DELAY_MS", "200"}, {"SPLITVOTE_SCRUB__INTERVAL_MS", "0"}},
                            {{"SPLITVOTE_PRIVACY__COVER_IDLE_MS", "100"}}});
  s.start_all();
  const auto poll = create_poll(s.port(), R"({"title":"Cover","choices":["yes","no"]})");  // product defaults
  const auto e = make_electorate(s, poll.id, 200, 3);
  vote_slowly(s, poll.id, e.votes);
  const auto results = await_results(s.port(), poll, [](const auto& r) { return all_stored(r, 200); });
  REQUIRE(all_stored(results, 200));
  const auto [p, bound] = statement_of(results);
  const auto snap = take_snapshot(s, poll.id);
  const auto sc = judge(attack(snap, 2, p), e.truth);
  std::cout << "linkage, defaults with cover traffic: attack accuracy " << sc.accuracy << " (chance " << e.majority_share
            << ", bound " << bound << "), ballots " << snap.ballots.size() << " for 200 votes, certain " << sc.certain << "\n";
  CHECK(snap.ballots.size() > 200 * 2);  // cover ballots are there
  CHECK(sc.certain == 0);
  CHECK(sc.accuracy <= bound + 3 * std::sqrt(bound * (1 - bound) / 200));
}
