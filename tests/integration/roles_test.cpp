// DESIGN §4 by grants: each service's role tries what it must not do, against real PostgreSQL.
#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/catalog/schema.hpp"
#include "splitvote/pg/migrations.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/pollbook/schema.hpp"
#include "splitvote/testing/environment.hpp"

#include <catch2/catch.hpp>

using namespace splitvote;

namespace {

const std::string poll = "'00000000-0000-4000-8000-000000000001'";

/// Runs `sql` as `role` in a transaction that is rolled back; "denied" when PostgreSQL
/// refuses it for lack of a privilege (42501), "ok" when it ran, else the error.
std::string attempt(const std::string& dsn, const std::string& role, const std::string& sql) {
  auto c = pg::connect(testing::as_role(dsn, role));
  try {
    pqxx::work tx(*c);
    tx.exec(sql);
    return "ok";  // not committed: the next attempt sees the same data
  } catch (const pqxx::insufficient_privilege&) {
    return "denied";
  } catch (const std::exception& e) {
    return e.what();
  }
}

/// Some rows in every table, written by the owner (the migrations' role).
void seed(const std::string& dsn, bool main_cluster) {
  auto c = pg::connect(dsn);
  pqxx::work tx(*c);
  if (main_cluster) {
    tx.exec("INSERT INTO catalog.polls (id, title, decoy_distribution, admin_token_hash) VALUES (" + poll +
            ", 't', 'none', '\\x00')");
    tx.exec("INSERT INTO catalog.poll_choices VALUES (" + poll + ", 0, 'a'), (" + poll + ", 1, 'b')");
    tx.exec("INSERT INTO catalog.releases (poll_id, seq, envelopes, epsilon_spent, ballots) VALUES (" + poll +
            ", 1, 1, 0, 1)");
    tx.exec("INSERT INTO catalog.poll_keys VALUES (" + poll + ", '\\x" + std::string(64, 'a') + "')");
    tx.exec("INSERT INTO pollbook.submissions VALUES (" + poll + ", gen_random_uuid(), '\\x" + std::string(64, 'b') +
            "')");
    tx.exec("INSERT INTO pollbook.consumer_offsets VALUES ('t', 0, 'c', 1)");
  }
  tx.exec("INSERT INTO ballotbox.ballots VALUES (" + poll + ", gen_random_uuid(), 0)");
  tx.exec("INSERT INTO ballotbox.envelope_counts VALUES (" + poll + ", 1)");
  tx.exec("INSERT INTO ballotbox.consumer_offsets VALUES ('t', 0, 'c', 1)");
  tx.commit();
}

const std::vector<std::string> service_roles = {"splitvote_catalog", "splitvote_pollbook", "splitvote_pollbook_reader",
                                                "splitvote_ballotbox", "splitvote_ballotbox_reader"};

}  // namespace

TEST_CASE("each role can do its job and nothing of another's, and no service role rewrites a stored vote",
          "[integration]") {
  // All three schemas in one database (compose keeps the ballotbox in its own cluster; here
  // they meet, so a grant that leaked across schemas would show).
  const auto dsn = testing::fresh_database(testing::pg().main);
  {
    auto owner = pg::connect(dsn);
    pg::apply_migrations(*owner, "catalog", catalog::migrations());
    pg::apply_migrations(*owner, "pollbook", pollbook::migrations());
    pg::apply_migrations(*owner, "ballotbox", ballotbox::migrations());
  }
  seed(dsn, true);

  SECTION("stored ballots and submissions: only the owner updates or deletes them") {
    for (const auto& role : service_roles) {
      INFO(role);
      for (const std::string& sql : std::vector<std::string>{
               "UPDATE ballotbox.ballots SET choice = 1", "DELETE FROM ballotbox.ballots",
               "UPDATE pollbook.submissions SET actor_key = actor_key", "DELETE FROM pollbook.submissions",
               "UPDATE ballotbox.envelope_counts SET envelopes = 0" /* the consumer may (its upsert) */,
               "DROP TABLE ballotbox.ballots", "DROP TABLE pollbook.submissions", "DROP TABLE catalog.polls",
               "ALTER TABLE ballotbox.ballots ADD COLUMN seen timestamptz", "CREATE TABLE public.stash (x int)",
               "CREATE TABLE catalog.stash (x int)", "CREATE TABLE pollbook.stash (x int)",
               "CREATE TABLE ballotbox.stash (x int)", "DELETE FROM catalog.schema_migrations",
               "DELETE FROM pollbook.schema_migrations", "DELETE FROM ballotbox.schema_migrations",
               "INSERT INTO ballotbox.schema_migrations VALUES (99, 'x')"}) {
        INFO(sql);
        if (role == "splitvote_ballotbox" && sql.starts_with("UPDATE ballotbox.envelope_counts")) {
          CHECK(attempt(dsn, role, sql) == "ok");
          continue;
        }
        CHECK(attempt(dsn, role, sql) == "denied");
      }
    }
  }

  SECTION("ingest's catalog role: its own schema, minus what it never does") {
    const std::string r = "splitvote_catalog";
    CHECK(attempt(dsn, r, "SELECT count(*) FROM catalog.polls") == "ok");
    CHECK(attempt(dsn, r, "UPDATE catalog.polls SET closed_at = now()") == "ok");  // close
    CHECK(attempt(dsn, r, "DELETE FROM catalog.poll_keys") == "ok");               // shred
    CHECK(attempt(dsn, r, "LOCK TABLE catalog.poll_keys IN ACCESS EXCLUSIVE MODE; TRUNCATE catalog.poll_keys") ==
          "ok");  // its rewrite
    CHECK(attempt(dsn, r, "TRUNCATE catalog.releases CASCADE") == "denied");
    CHECK(attempt(dsn, r, "INSERT INTO catalog.poll_choices VALUES (" + poll + ", 2, 'c')") == "ok");
    CHECK(attempt(dsn, r, "DELETE FROM catalog.polls") == "denied");
    CHECK(attempt(dsn, r, "UPDATE catalog.poll_choices SET label = 'x'") == "denied");
    CHECK(attempt(dsn, r, "DELETE FROM catalog.releases") == "denied");
    CHECK(attempt(dsn, r, "UPDATE catalog.released_counts SET released = 0") == "denied");
    CHECK(attempt(dsn, r, "DELETE FROM catalog.released_counts") == "denied");
    CHECK(attempt(dsn, r, "TRUNCATE catalog.polls CASCADE") == "denied");
    CHECK(attempt(dsn, r, "SELECT * FROM pollbook.submissions") == "denied");
    CHECK(attempt(dsn, r, "SELECT * FROM pollbook.consumer_offsets") == "denied");
    CHECK(attempt(dsn, r, "SELECT pollbook.has_submitted(" + poll + ", '\\x00')") == "denied");
    CHECK(attempt(dsn, r, "SELECT * FROM ballotbox.ballots") == "denied");
    CHECK(attempt(dsn, r, "SELECT * FROM ballotbox.tally(" + poll + ")") == "denied");
  }

  SECTION("the readers ingest uses see aggregates only and write nothing") {
    for (const std::string& r : std::vector<std::string>{"splitvote_pollbook_reader", "splitvote_ballotbox_reader"}) {
      INFO(r);
      for (const std::string& sql : std::vector<std::string>{
               "SELECT * FROM pollbook.submissions", "SELECT * FROM pollbook.consumer_offsets",
               "SELECT * FROM ballotbox.ballots", "SELECT * FROM ballotbox.envelope_counts",
               "SELECT * FROM ballotbox.consumer_offsets", "SELECT * FROM catalog.polls",
               "SELECT * FROM catalog.poll_keys",
               "INSERT INTO pollbook.submissions VALUES (" + poll + ", gen_random_uuid(), '\\x00')",
               "INSERT INTO ballotbox.ballots VALUES (" + poll + ", gen_random_uuid(), 0)",
               "UPDATE pollbook.consumer_offsets SET next_offset = 0",
               "UPDATE ballotbox.consumer_offsets SET next_offset = 0", "TRUNCATE pollbook.submissions",
               "TRUNCATE ballotbox.ballots", "INSERT INTO pollbook.schema_migrations VALUES (99, 'x')"})
        CHECK(attempt(dsn, r, sql) == "denied");
    }
    CHECK(attempt(dsn, "splitvote_pollbook_reader", "SELECT * FROM pollbook.participation(" + poll + ")") == "ok");
    CHECK(attempt(dsn, "splitvote_pollbook_reader", "SELECT * FROM ballotbox.tally(" + poll + ")") == "denied");
    CHECK(attempt(dsn, "splitvote_ballotbox_reader", "SELECT * FROM ballotbox.tally(" + poll + ")") == "ok");
    CHECK(attempt(dsn, "splitvote_ballotbox_reader", "SELECT ballotbox.envelopes(" + poll + ")") == "ok");
    CHECK(attempt(dsn, "splitvote_ballotbox_reader", "SELECT * FROM pollbook.participation(" + poll + ")") == "denied");
  }

  SECTION("each consumer: insert, scrub and its offsets in its own schema; nothing of the other's or the catalog") {
    for (const auto& [mine, other] :
         {std::pair<std::string, std::string>{"pollbook", "ballotbox"}, {"ballotbox", "pollbook"}}) {
      const std::string r = "splitvote_" + mine;
      INFO(r);
      const std::string own_table = mine == "pollbook" ? "pollbook.submissions" : "ballotbox.ballots";
      const std::string other_table = other == "pollbook" ? "pollbook.submissions" : "ballotbox.ballots";
      CHECK(attempt(dsn, r, "SELECT count(*) FROM " + own_table) == "ok");
      CHECK(attempt(dsn, r, "LOCK TABLE " + own_table + " IN ACCESS EXCLUSIVE MODE; TRUNCATE " + own_table) ==
            "ok");  // the scrub
      CHECK(attempt(dsn, r, "UPDATE " + mine + ".consumer_offsets SET next_offset = 2") == "ok");
      CHECK(attempt(dsn, r, "DELETE FROM " + mine + ".consumer_offsets") == "denied");
      CHECK(attempt(dsn, r, "TRUNCATE " + mine + ".consumer_offsets") == "denied");
      CHECK(attempt(dsn, r, "SELECT * FROM " + other_table) == "denied");
      CHECK(attempt(dsn, r, "SELECT * FROM " + other + ".consumer_offsets") == "denied");
      CHECK(attempt(dsn, r, "SELECT * FROM catalog.polls") == "denied");
      CHECK(attempt(dsn, r, "SELECT * FROM catalog.eligible_actors") == "denied");
    }
    CHECK(attempt(dsn, "splitvote_pollbook",
                  "INSERT INTO pollbook.submissions VALUES (" + poll + ", gen_random_uuid(), '\\x" +
                      std::string(64, 'c') + "') ON CONFLICT DO NOTHING") == "ok");
    CHECK(attempt(dsn, "splitvote_ballotbox",
                  "INSERT INTO ballotbox.ballots VALUES (" + poll +
                      ", gen_random_uuid(), 1) ON CONFLICT DO NOTHING RETURNING poll_id, random_id") == "ok");
  }
}

TEST_CASE("in its own cluster the ballotbox's roles find no pollbook or catalog at all", "[integration]") {
  const auto dsn = testing::fresh_database(testing::pg().ballot);
  {
    auto owner = pg::connect(dsn);
    pg::apply_migrations(*owner, "ballotbox", ballotbox::migrations());
  }
  seed(dsn, false);
  for (const std::string& r : std::vector<std::string>{"splitvote_ballotbox", "splitvote_ballotbox_reader"}) {
    INFO(r);
    CHECK(attempt(dsn, r, "SELECT * FROM pollbook.submissions").find("does not exist") != std::string::npos);
    CHECK(attempt(dsn, r, "SELECT * FROM catalog.polls").find("does not exist") != std::string::npos);
    CHECK(attempt(dsn, r, "UPDATE ballotbox.ballots SET choice = 1") == "denied");
    CHECK(attempt(dsn, r, "DELETE FROM ballotbox.ballots") == "denied");
  }
  CHECK(attempt(dsn, "splitvote_ballotbox_reader", "SELECT * FROM ballotbox.ballots") == "denied");
}
