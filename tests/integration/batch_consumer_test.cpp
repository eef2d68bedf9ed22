#include "splitvote/consumer/batch_consumer.hpp"
#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/ballotbox/sink.hpp"
#include "splitvote/consumer/position.hpp"
#include "splitvote/envelope/actor_part.hpp"
#include "splitvote/envelope/ballot_list.hpp"
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/kafka/producer.hpp"
#include "splitvote/pg/offset_store.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/testing/dev_broker.hpp"
#include "splitvote/testing/environment.hpp"

#include <catch2/catch.hpp>

#include <ostream>
#include <thread>

using namespace splitvote;
using namespace std::chrono_literals;

namespace {

const std::string poll_id = "5f0b8a4e-0000-4000-8000-000000000001";

/// Produces `count` envelopes of `ballots_each` ballots (plus any raw extra messages);
/// returns the envelopes it made.
std::vector<std::string> produce(const std::string& bootstrap, int count, int ballots_each,
                                 const std::vector<std::string>& extra = {}, const std::string& poll = poll_id) {
  kafka::producer p({{"bootstrap.servers", bootstrap}});
  auto rng = random::seeded_source(static_cast<std::uint64_t>(count) * 7919 + ballots_each);
  std::atomic<int> delivered{0}, failed{0};
  auto send = [&](const std::string& bytes) {
    REQUIRE(p.produce(envelope::topic, bytes, {}, [&](const kafka::producer::delivery& d) {
      (d.error ? failed : delivered)++;
    }) == kafka::producer::enqueue::queued);
  };
  std::vector<std::string> made;
  for (int i = 0; i < count; ++i) {
    std::vector<std::uint32_t> choices(ballots_each, static_cast<std::uint32_t>(i % 3));
    envelope::actor_part actor{{}, random::random_id(*rng)};
    made.push_back(envelope::encode(
        envelope::envelope{poll, envelope::encode(actor), envelope::encode(envelope::make_ballots(choices, *rng))}));
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
  bool operator==(const store_counts&) const = default;
};

std::ostream& operator<<(std::ostream& out, const store_counts& c) {
  return out << "{ballots " << c.ballots << ", envelopes " << c.envelopes << ", offsets " << c.offsets << "}";
}

/// Every partition's stored position, opened with `keys` (none: the plain form).
std::vector<consumer::position> positions(pqxx::transaction_base& tx,
                                          const std::vector<consumer::position_key>& keys = {}) {
  std::vector<consumer::position> out;
  for (const auto& r : tx.exec("SELECT position, next_offset FROM ballotbox.consumer_offsets")) {
    if (r[0].is_null()) {
      out.push_back({r[1].as<std::int64_t>(), {}});
      continue;
    }
    const pqxx::binarystring bytes(r[0]);
    out.push_back(consumer::open_position(bytes.str(), keys));
  }
  return out;
}

/// offsets: the messages below every partition's first unwritten one, summed.
store_counts counts(const std::string& dsn, const std::vector<consumer::position_key>& keys = {}) {
  auto c = pg::connect(dsn);
  pqxx::read_transaction tx(*c);
  std::int64_t written_below = 0;
  for (const auto& p : positions(tx, keys)) written_below += p.start();
  return {tx.exec("SELECT count(*) FROM ballotbox.ballots")[0][0].as<std::int64_t>(),
          tx.exec("SELECT coalesce(sum(envelopes), 0) FROM ballotbox.envelope_counts")[0][0].as<std::int64_t>(),
          written_below};
}

/// The real ballotbox sink that, while `fail` is set, throws after writing its rows.
class failing_sink final : public consumer::sink {
public:
  std::unique_ptr<consumer::decoded> decode(std::string_view value) override { return inner_.decode(value); }
  consumer::write_stats write(pqxx::work& tx, const std::vector<const consumer::decoded*>& batch,
                              random::random_source& rng) override {
    auto stats = inner_.write(tx, batch, rng);
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
  o.kafka = {{"bootstrap.servers", bootstrap},
             {"group.id", group},
             {"session.timeout.ms", "6000"},
             {"heartbeat.interval.ms", "500"}};
  o.mixing = {5, 15, 500ms};  // k as shipped, a short wait
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

/// A case's own dev broker and freshly migrated ballotbox database.
struct rig {
  explicit rig(const std::string& name) : broker(testing::temp_dir(name)), dsn(migrated_ballotbox()) {}
  consumer::options options(const std::string& group) const { return options_for(dsn, broker.bootstrap(), group); }
  testing::dev_broker broker;
  std::string dsn;
};

}  // namespace

TEST_CASE("a batch and its offsets commit together or not at all", "[integration]") {
  const rig r("consumer-atomic");
  const auto& dsn = r.dsn;
  produce(r.broker.bootstrap(), 50, 2);

  failing_sink sink;
  sink.fail = true;
  std::atomic<bool> stop{false};
  std::thread t([&] {
    consumer::batch_consumer c(r.options("atomic"), sink);
    c.run(stop);
  });
  // While every write fails after inserting its rows, nothing at all may be visible.
  REQUIRE(testing::eventually([&] { return sink.calls >= 3; }, 60s));
  CHECK(counts(dsn) == store_counts{.ballots = 0, .envelopes = 0, .offsets = 0});

  sink.fail = false;
  const bool stored = testing::eventually([&] { return counts(dsn).envelopes == 50; }, 60s);
  stop = true;
  t.join();
  REQUIRE(stored);
  CHECK(counts(dsn) == store_counts{.ballots = 100, .envelopes = 50, .offsets = 50});
}

TEST_CASE("a restarted consumer resumes from the stored offsets: nothing lost, nothing twice", "[integration]") {
  const rig r("consumer-resume");
  ballotbox::sink sink;

  produce(r.broker.bootstrap(), 120, 3);
  consume_until(r.options("first"), sink, [&] { return counts(r.dsn).envelopes >= 120; });
  CHECK(counts(r.dsn).envelopes == 120);

  // A new group has no offsets in Kafka: only the stored offsets keep it from re-reading.
  produce(r.broker.bootstrap(), 80, 3);
  consume_until(r.options("second"), sink, [&] { return counts(r.dsn).offsets >= 200; });
  CHECK(counts(r.dsn) == store_counts{.ballots = 600, .envelopes = 200, .offsets = 200});
}

TEST_CASE("messages that do not decode are skipped and their offsets still advance", "[integration]") {
  const rig r("consumer-garbage");
  ballotbox::sink sink;
  const std::string wrong_poll = envelope::encode(envelope::envelope{"../../etc/passwd", "", "x"});
  produce(r.broker.bootstrap(), 30, 1, {"not protobuf at all \xff\xfe", "", wrong_poll});
  consume_until(r.options("garbage"), sink, [&] { return counts(r.dsn).offsets >= 33; });
  CHECK(counts(r.dsn) == store_counts{.ballots = 30, .envelopes = 30, .offsets = 33});
}

TEST_CASE("offsets of another cluster restart at zero, and a stale writer is fenced", "[integration]") {
  auto c = pg::connect(migrated_ballotbox());
  const pg::offset_store store("ballotbox");
  const pg::stored_offset fresh{"", 0};
  CHECK(store.load(*c, "t", 0, "cluster-a") == fresh);
  {
    pqxx::work tx(*c);
    CHECK(store.advance(tx, "t", 0, "cluster-a", fresh, std::string("S\0sealed\xff", 9)));
    tx.commit();
  }
  const pg::stored_offset sealed{std::string("S\0sealed\xff", 9), -1};
  CHECK(store.load(*c, "t", 0, "cluster-a") == sealed);  // bytes as they were, no plain offset beside them
  {
    // A writer that still believes the partition is where it was (it lost the partition) must not commit.
    pqxx::work tx(*c);
    CHECK_FALSE(store.advance(tx, "t", 0, "cluster-a", fresh, "S-other"));
  }
  {
    pqxx::work tx(*c);
    CHECK(store.advance(tx, "t", 0, "cluster-a", sealed, "S-next"));
  }                                                     // rolled back
  CHECK(store.load(*c, "t", 0, "cluster-b") == fresh);  // a restarted dev broker: new topic
}

TEST_CASE("an envelope delivered twice (Kafka retries can duplicate) is counted once", "[integration]") {
  const rig r("consumer-duplicates");
  ballotbox::sink sink;
  const auto sent = produce(r.broker.bootstrap(), 30, 2);
  // Ten of them again, once later on the topic and once twice in a row (same batch).
  std::vector<std::string> again(sent.begin(), sent.begin() + 10);
  again.push_back(sent[20]);
  again.push_back(sent[20]);
  produce(r.broker.bootstrap(), 0, 0, again);
  consume_until(r.options("duplicates"), sink, [&] { return counts(r.dsn).offsets >= 42; });
  // The envelope count follows the ballots actually stored.
  CHECK(counts(r.dsn) == store_counts{.ballots = 60, .envelopes = 30, .offsets = 42});
}

TEST_CASE(
    "mixing by count: a poll's votes wait for their crowd in a sealed position, and a restart reads only what was not "
    "written",
    "[integration][mixing]") {
  const rig r("consumer-mixing");
  const auto& dsn = r.dsn;
  ballotbox::sink sink;
  const std::string quiet = "5f0b8a4e-0000-4000-8000-000000000002";
  auto o = r.options("mixing");
  o.mixing = {10, 10, std::chrono::hours(1)};
  std::array<unsigned char, 32> secret{};
  secret.fill(42);
  o.position_keys = {consumer::derive_position_key(secret)};
  const auto stored = [&] { return counts(dsn, o.position_keys); };
  const auto poll_envelopes = [&](const std::string& poll) {
    auto c = pg::connect(dsn);
    pqxx::read_transaction tx(*c);
    return tx
        .exec_params("SELECT coalesce(sum(envelopes), 0) FROM ballotbox.envelope_counts WHERE poll_id = $1::uuid",
                     poll)[0][0]
        .as<std::int64_t>();
  };

  // 4 votes of the quiet poll first (offsets 0-3), then 25 of a busy one (4-28).
  produce(r.broker.bootstrap(), 4, 2, {}, quiet);
  produce(r.broker.bootstrap(), 25, 2);
  consume_until(o, sink, [&] { return poll_envelopes(poll_id) >= 20; });
  CHECK(poll_envelopes(poll_id) == 20);  // two crowds of 10; 5 still wait
  CHECK(poll_envelopes(quiet) == 0);     // 4 < k: nothing of the quiet poll written
  {
    // The positions: the two crowds written, everything else read so far held.
    auto c = pg::connect(dsn);
    pqxx::read_transaction tx(*c);
    std::int64_t read = 0;
    std::size_t held = 0;
    for (const auto& p : positions(tx, o.position_keys)) read += p.next, held += p.held.size();
    // As of the last write: what was read and not written is held (the partitions are read
    // in no fixed order, so how much of the quiet poll was read by then varies).
    CHECK(read - static_cast<std::int64_t>(held) == 20);
    CHECK_THROWS(positions(tx));  // sealed: without the key nothing reads them
  }

  // A second instance (a restart) reads from the first held message and skips what was written:
  // the crowd it makes holds only votes not stored before.
  produce(r.broker.bootstrap(), 6, 2, {}, quiet);
  produce(r.broker.bootstrap(), 5, 2);
  consume_until(o, sink, [&] { return poll_envelopes(quiet) >= 10 && poll_envelopes(poll_id) >= 30; });
  CHECK(poll_envelopes(quiet) == 10);
  CHECK(poll_envelopes(poll_id) == 30);
  CHECK(stored() == store_counts{.ballots = 80, .envelopes = 40, .offsets = 40});
}
