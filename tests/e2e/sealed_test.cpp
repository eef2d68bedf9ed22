// A thief's copy of the topic and of every log: sealed halves link nothing, logs name no vote.
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/envelope/seal.hpp"
#include "splitvote/kafka/consumer.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/privacy/actor_key.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/stack.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <set>
#include <thread>

using namespace splitvote;
using namespace splitvote::testing;
using svc = stack::service;

namespace {

/// Every message on the topic, read from the beginning by a group of the thief's own.
std::vector<std::string> copy_topic(const std::string& bootstrap, std::size_t expected,
                                    const std::string& group = "thief") {
  kafka::consumer c(
      {{"bootstrap.servers", bootstrap}, {"group.id", group}},
      [](const auto& parts) {
        std::vector<kafka::partition_offset> starts;
        for (const auto& p : parts) starts.push_back({p.topic, p.partition, kafka::offset_beginning});
        return starts;
      },
      [](const auto&) {});
  c.subscribe(envelope::topic);
  std::vector<std::string> out;
  eventually(
      [&] {
        if (auto m = c.poll(std::chrono::milliseconds(100)); m && !m->partition_end() && !m->error())
          out.emplace_back(m->value());
        return out.size() >= expected;
      },
      std::chrono::seconds(30));
  c.close();
  return out;
}

}  // namespace

TEST_CASE("a copy of the topic holds only sealed halves, and no log pairs an actor with a choice", "[e2e][sealed]") {
  stack s("e2e-sealed");
  const auto poll = start_with_poll(s, R"({"title":"Sealed","choices":["alpha-choice","omega-choice"],
      "privacy":{"decoys":{"distribution":"fixed","k":1},"randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})");
  std::vector<vote> votes;
  for (int i = 0; i < 60; ++i)
    votes.push_back({"sealed-actor-" + std::to_string(i), i % 2 ? "alpha-choice" : "omega-choice"});
  REQUIRE(cast_votes(s.port(), poll.id, votes).accepted() == 60);
  const auto results = await_results(s.port(), poll, [](const auto& r) {
    return r.at("consistency").as_object().at("ballotbox_envelopes").as_int64() == 60 &&
           r.at("participation").as_object().at("unique_actors").as_int64() == 60;
  });
  // The consumers opened every half: 60 envelopes, two ballots each (one decoy), and two for
  // each vote a crowd lacked when mixing's wait ran out (the ballotbox's own decoys).
  CHECK(results.at("mechanism").as_object().at("envelopes").as_int64() == 60);
  const auto stored_ballots = results.at("mechanism").as_object().at("ballots").as_int64();
  CHECK(stored_ballots >= 120);
  CHECK(stored_ballots % 2 == 0);

  const auto messages = copy_topic(s.bootstrap(), 60);
  REQUIRE(messages.size() == 60);

  // What the thief could look for: the actors' keyed hashes (as the pollbook stores them)
  // and the ballots' random ids (as the ballotbox stores them).
  std::vector<std::string> needles;
  for (const auto& v : votes) {
    const std::string hex = s.actor_key_hex(poll.id, v.actor);
    std::string raw;
    for (std::size_t i = 0; i < hex.size(); i += 2)
      raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    needles.push_back(raw);
  }
  {
    auto c = pg::connect(s.ballot_dsn());
    pqxx::read_transaction tx(*c);
    for (const auto& row : tx.exec("SELECT decode(replace(random_id::text, '-', ''), 'hex') FROM ballotbox.ballots")) {
      const pqxx::binarystring id(row[0]);
      needles.emplace_back(id.str());
    }
  }
  REQUIRE(needles.size() == 60 + 120);

  const auto pollbook_key = envelope::load_keypair((s.dir() / "pollbook.key").string());
  const auto ballotbox_key = envelope::load_keypair((s.dir() / "ballotbox.key").string());
  for (const auto& m : messages) {
    const auto env = envelope::decode(m.data(), m.size());
    CHECK(env.sealed == envelope::sealing::shared_key_padded);
    for (const auto& needle : needles) CHECK(m.find(needle) == std::string::npos);
    // Each half opens only with its own consumer's key.
    CHECK_NOTHROW(envelope::open_shared(env.actor_part, pollbook_key));
    CHECK_THROWS_AS(envelope::open_shared(env.actor_part, ballotbox_key), envelope::decode_error);
    CHECK_THROWS_AS(envelope::open_shared(env.ballot_list, pollbook_key), envelope::decode_error);
  }

  // The defaults' decoys (Poisson, 0 to 8 per vote): a copy of the topic does not tell how
  // many ballots an envelope holds. Every message of the poll has one length.
  const auto defaults = create_poll(s.port(), R"({"title":"Lengths","choices":["alpha-choice","omega-choice"]})");
  std::vector<vote> more;
  for (int i = 0; i < 40; ++i)
    more.push_back({"sealed-actor-d" + std::to_string(i), i % 2 ? "alpha-choice" : "omega-choice"});
  REQUIRE(cast_votes(s.port(), defaults.id, more).accepted() == 40);
  std::set<std::size_t> lengths;
  const auto copy = copy_topic(s.bootstrap(), 100, "second-thief");
  REQUIRE(copy.size() == 100);
  for (const auto& m : copy)
    if (envelope::decode(m.data(), m.size()).poll_id == defaults.id) lengths.insert(m.size());
  const auto stored = await_results(s.port(), defaults, [](const auto& r) {
    return r.at("consistency").as_object().at("ballotbox_envelopes").as_int64() == 40;
  });
  const auto ballots = stored.at("mechanism").as_object().at("ballots").as_int64();
  INFO("40 votes brought " << ballots << " ballots");
  CHECK(ballots > 40 + 40);  // about two decoys each, so their numbers differ between envelopes
  CHECK(lengths.size() == 1);

  // No service logged an actor id or a choice label, so no log line can pair them.
  const std::string logs = s.all_logs();
  CHECK(logs.find("sealed-actor-") == std::string::npos);
  CHECK(logs.find("alpha-choice") == std::string::npos);
  CHECK(logs.find("omega-choice") == std::string::npos);
}

TEST_CASE("cover envelopes fill idle time, look like votes on the topic, and count as decoys", "[e2e][cover]") {
  stack s("e2e-cover", {{}, {{"SPLITVOTE_PRIVACY__COVER_IDLE_MS", "100"}}});
  const auto poll = start_with_poll(s, R"({"title":"Cover","choices":["red","blue"],
      "privacy":{"decoys":{"distribution":"fixed","k":1},"randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})");
  std::vector<vote> votes;
  for (int i = 0; i < 30; ++i) votes.push_back({"cover-actor-" + std::to_string(i), i < 20 ? "red" : "blue"});
  REQUIRE(cast_votes(s.port(), poll.id, votes).accepted() == 30);
  // Idle for a while: cover envelopes keep flowing.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // Not `complete`: with covers flowing some are always waiting for their crowd (mixing
  // holds a poll's covers with its votes), so the topic is never fully stored.
  const auto r = await_results(s.port(), poll, [](const auto& r) {
    return r.at("consistency").as_object().at("stores_agree").as_bool() &&
           r.at("mechanism").as_object().at("envelopes").as_int64() == 30 &&
           r.at("mechanism").as_object().at("ballots").as_int64() >= 2 * 30 + 2 * 5;
  });
  INFO(boost::json::serialize(r));
  const auto& mech = r.at("mechanism").as_object();
  CHECK(mech.at("envelopes").as_int64() == 30);  // covers are no votes
  CHECK(r.at("participation").as_object().at("unique_actors").as_int64() == 30);
  CHECK(r.at("consistency").as_object().at("stores_agree").as_bool());
  const std::int64_t ballots = mech.at("ballots").as_int64();
  CHECK(ballots >= 70);  // at least 5 covers of 2
  CHECK(mech.at("decoy_ballots").as_int64() == ballots - 30);
  CHECK(estimate_of(r, "red") + estimate_of(r, "blue") == Approx(30));

  // On the topic a cover envelope is as long as a vote: nothing tells them apart.
  const auto messages = copy_topic(s.bootstrap(), static_cast<std::size_t>(ballots / 2));
  REQUIRE(messages.size() >= 35);
  std::set<std::size_t> sizes;
  for (const auto& m : messages) sizes.insert(m.size());
  CHECK(sizes.size() == 1);
}

TEST_CASE("a lone vote is never written alone: the ballotbox adds decoys for the crowd that did not form",
          "[e2e][lone-vote]") {
  stack s("e2e-lone-vote");  // mixing as shipped (at least 5 votes a crowd), a 1 s wait
  const auto poll = start_with_poll(s, R"({"title":"Lone","choices":["red","blue","green"],
      "privacy":{"decoys":{"distribution":"fixed","k":1},"randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})");
  const auto no_decoys = create_poll(s.port(), R"({"title":"Lone, no decoys","choices":["red","blue"],
      "privacy":{"decoys":{"distribution":"none"},"randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})");
  REQUIRE(cast_votes(s.port(), poll.id, {{"lone-actor-1", "red"}}).accepted() == 1);
  REQUIRE(cast_votes(s.port(), no_decoys.id, {{"lone-actor-2", "red"}}).accepted() == 1);
  const auto one_stored = [](const auto& r) {
    return r.at("consistency").as_object().at("ballotbox_envelopes").as_int64() == 1 &&
           r.at("participation").as_object().at("unique_actors").as_int64() == 1;
  };
  const auto r = await_results(s.port(), poll, one_stored);
  INFO(boost::json::serialize(r));
  const auto& mech = r.at("mechanism").as_object();
  // The crowd waited its second and left with one vote of the five it needed: besides the
  // vote's own two ballots, two for each of the four missing votes, uniform over the choices.
  CHECK(mech.at("envelopes").as_int64() == 1);
  CHECK(mech.at("ballots").as_int64() == 2 + 4 * 2);
  CHECK(mech.at("decoy_ballots").as_int64() == 9);
  double sum = 0;
  for (const auto* c : {"red", "blue", "green"}) sum += estimate_of(r, c);
  CHECK(sum == Approx(1));  // the estimate subtracts them: one vote
  // A poll whose creator chose no decoys gets none from the store either.
  const auto plain = await_results(s.port(), no_decoys, one_stored);
  CHECK(plain.at("mechanism").as_object().at("ballots").as_int64() == 1);
}
