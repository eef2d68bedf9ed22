#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/ballotbox/sink.hpp"
#include "splitvote/consumer/batch_consumer.hpp"
#include "splitvote/envelope/actor_part.hpp"
#include "splitvote/envelope/ballot_list.hpp"
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/kafka/producer.hpp"
#include "splitvote/pg/offset_store.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/testing/dev_broker.hpp"
#include "splitvote/testing/environment.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace splitvote;
using namespace std::chrono_literals;

namespace {

const std::string poll_id = "5f0b8a4e-0000-4000-8000-000000000001";

/// Produces `count` envelopes of `ballots_each` ballots (plus any raw extra messages);
/// returns the envelopes it made.
std::vector<std::string> produce(const std::string& bootstrap, int count, int ballots_each, const std::vector<std::string>& extra = {}) {
  kafka::producer p({{"bootstrap.servers", bootstrap}});
  auto rng = random::seeded_source(static_cast<std::uint64_t>(count) * 7919 + ballots_each);
  std::atomic<int> delivered{0}, failed{0};
  auto send = [&](const std::string& bytes) {
    REQUIRE(p.produce(envelope::topic, bytes, {}, [&](const kafka::producer::delivery& d) { (d.error ? failed : delivered)++; }) ==
            kafka::producer::enqueue::queued);
  };
  std::vector<std::string> made;
  for (int i = 0; i < count; ++i) {
    std::vector<std::uint32_t> choices(ballots_each, static_cast<std::uint32_t>(i % 3));
    envelope::actor_part actor{{}, random::random_id(*rng)};
    made.push_back(envelope::encode(envelope::envelope{poll_id, envelope::encode(actor), envelope::encode(envelope::make_ballots(choices, *rng))}));
    send(made.back());
  }
  for (const auto& raw : extra) send(raw);
  REQUIRE(p.flush(10s));
  REQUIRE(delivered == count + static_cast<int>(extra.size()));
  REQUIRE(failed == 0);
  return made;
}

struct store_counts {
  std::int64_t ballots, envelopes, offsets;
};

store_counts counts(const std::string& dsn) {
  auto c = pg::connect(dsn);
  pqxx::read_transaction tx(*c);
  return {tx.exec("SELECT count(*) FROM ballotbox.ballots")[0][0].as<std::int64_t>(),
          tx.exec("SELECT coalesce(sum(envelopes), 0) FROM ballotbox.envelope_counts")[0][0].as<std::int64_t>(),
          tx.exec("SELECT coalesce(sum(next_offset), 0) FROM ballotbox.consumer_offsets")[0][0].as<std::int64_t>()};
}

/// The real ballotbox sink that, while `fail` is set, throws after writing its rows.
class failing_sink final : public consumer::sink {
public:
  consumer::write_stats write(pqxx::work& tx, const std::vector<std::string_view>& values,
                              random::random_source& rng) override {
    auto stats = inner_.write(tx, values, rng);
    ++calls;
    if (fail) throw pqxx::sql_error("injected failure after the rows were written");
    return stats;
  }
  std::atomic<bool> fail{false};
  std::atomic<int> calls{0};

private:
  ballotbox::sink inner_;
};

consumer::options options_for(const std::string& dsn, const std::string& bootstrap, const std::string& group) {
  consumer::options o;
  o.name = "ballotbox-test";
  o.dsn = dsn;
  o.schema = "ballotbox";
  o.topic = envelope::topic;
  o.kafka = {{"bootstrap.servers", bootstrap}, {"group.id", group}, {"session.timeout.ms", "6000"},
             {"heartbeat.interval.ms", "500"}};
  o.min_batch = 5;
  o.max_batch = 20;
  o.max_delay = 50ms;
  o.drain_timeout = 10s;
  return o;
}

/// Runs a consumer on its own thread until `done` holds for the store, then stops it.
template <typename Done>
void consume_until(consumer::options o, consumer::sink& s, Done done) {
  std::atomic<bool> stop{false};
  std::exception_ptr failure;
  std::thread t([&] {
    try {
      consumer::batch_consumer c(o, s);
      c.run(stop);
    } catch (...) {
      failure = std::current_exception();
    }
  });
  const bool reached = testing::eventually([&] { return failure || done(); }, 60s);
  stop = true;
  t.join();
  if (failure) std::rethrow_exception(failure);
  REQUIRE(reached);
}

std::string migrated_ballotbox() {
  const auto dsn = testing::fresh_database(testing::pg().ballot);
  auto c = pg::connect(dsn);
  pg::apply_migrations(*c, "ballotbox", ballotbox::migrations());
  return dsn;
}

}  // namespace

TEST_CASE("a batch and its offsets commit together or not at all", "[integration]") {
  const auto dir = testing::temp_dir("consumer-atomic");
  testing::dev_broker broker(dir);
  const auto dsn = migrated_ballotbox();
  produce(broker.bootstrap(), 50, 2);

  failing_sink sink;
  sink.fail = true;
  std::atomic<bool> stop{false};
  std::thread t([&] {
    consumer::batch_consumer c(options_for(dsn, broker.bootstrap(), "atomic"), sink);
    c.run(stop);
  });
  // While every write fails after inserting its rows, nothing at all may be visible.
  REQUIRE(testing::eventually([&] { return sink.calls >= 3; }, 60s));
  const auto during = counts(dsn);
  CHECK(during.ballots == 0);
  CHECK(during.envelopes == 0);
  CHECK(during.offsets == 0);

  sink.fail = false;
  const bool stored = testing::eventually([&] { return counts(dsn).envelopes == 50; }, 60s);
  stop = true;
  t.join();
  REQUIRE(stored);
  const auto after = counts(dsn);
  CHECK(after.ballots == 100);
  CHECK(after.envelopes == 50);
  CHECK(after.offsets == 50);
}

TEST_CASE("a restarted consumer resumes from the stored offsets: nothing lost, nothing twice", "[integration]") {
  const auto dir = testing::temp_dir("consumer-resume");
  testing::dev_broker broker(dir);
  const auto dsn = migrated_ballotbox();
  ballotbox::sink sink;

  produce(broker.bootstrap(), 120, 3);
  consume_until(options_for(dsn, broker.bootstrap(), "first"), sink, [&] { return counts(dsn).envelopes >= 120; });
  CHECK(counts(dsn).envelopes == 120);

  // A new group has no offsets in Kafka: only the stored offsets keep it from re-reading.
  produce(broker.bootstrap(), 80, 3);
  consume_until(options_for(dsn, broker.bootstrap(), "second"), sink, [&] { return counts(dsn).offsets >= 200; });
  const auto after = counts(dsn);
  CHECK(after.envelopes == 200);
  CHECK(after.ballots == 600);
  CHECK(after.offsets == 200);
}

TEST_CASE("messages that do not decode are skipped and their offsets still advance", "[integration]") {
  const auto dir = testing::temp_dir("consumer-garbage");
  testing::dev_broker broker(dir);
  const auto dsn = migrated_ballotbox();
  ballotbox::sink sink;
  const std::string wrong_poll = envelope::encode(envelope::envelope{"../../etc/passwd", "", "x"});
  produce(broker.bootstrap(), 30, 1, {"not protobuf at all \xff\xfe", "", wrong_poll});
  consume_until(options_for(dsn, broker.bootstrap(), "garbage"), sink, [&] { return counts(dsn).offsets >= 33; });
  const auto after = counts(dsn);
  CHECK(after.envelopes == 30);
  CHECK(after.ballots == 30);
  CHECK(after.offsets == 33);
}

TEST_CASE("offsets of another cluster restart at zero, and a stale writer is fenced", "[integration]") {
  auto c = pg::connect(migrated_ballotbox());
  const pg::offset_store store("ballotbox");
  CHECK(store.load(*c, "t", 0, "cluster-a") == 0);
  {
    pqxx::work tx(*c);
    CHECK(store.advance(tx, "t", 0, "cluster-a", 0, 40));
    tx.commit();
  }
  CHECK(store.load(*c, "t", 0, "cluster-a") == 40);
  {
    // A writer that still believes the position is 0 (it lost the partition) must not commit.
    pqxx::work tx(*c);
    CHECK_FALSE(store.advance(tx, "t", 0, "cluster-a", 0, 10));
  }
  CHECK(store.load(*c, "t", 0, "cluster-b") == 0);  // a restarted dev broker: new topic
  pqxx::read_transaction tx(*c);
  CHECK(store.positions(tx, "t", "cluster-b").at(0) == 0);
  CHECK(store.positions(tx, "t", "cluster-a").empty());
}

TEST_CASE("an envelope delivered twice (Kafka retries can duplicate) is counted once", "[integration]") {
  const auto dir = testing::temp_dir("consumer-duplicates");
  testing::dev_broker broker(dir);
  const auto dsn = migrated_ballotbox();
  ballotbox::sink sink;
  const auto sent = produce(broker.bootstrap(), 30, 2);
  // Ten of them again, once later on the topic and once twice in a row (same batch).
  std::vector<std::string> again(sent.begin(), sent.begin() + 10);
  again.push_back(sent[20]);
  again.push_back(sent[20]);
  produce(broker.bootstrap(), 0, 0, again);
  consume_until(options_for(dsn, broker.bootstrap(), "duplicates"), sink, [&] { return counts(dsn).offsets >= 42; });
  const auto after = counts(dsn);
  CHECK(after.ballots == 60);
  CHECK(after.envelopes == 30);  // the envelope count follows the ballots actually stored
  CHECK(after.offsets == 42);
}
