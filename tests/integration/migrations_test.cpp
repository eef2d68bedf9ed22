#include "splitvote/pg/migrations.hpp"
#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/catalog/schema.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/pollbook/schema.hpp"
#include "splitvote/testing/environment.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace splitvote;

TEST_CASE("migrations apply once, twice is a no-op, and concurrent runs agree", "[integration]") {
  const auto dsn = testing::fresh_database(testing::pg().main);
  auto c = pg::connect(dsn);
  CHECK(pg::schema_version(*c, "catalog") == 0);
  CHECK_THROWS_WITH(pg::require_schema_version(*c, "catalog", catalog::current_version()),
                    Catch::Contains("run splitvote-migrate"));

  // Two runners at once: the advisory lock serialises them; exactly one applies each step.
  int applied[2] = {-1, -1};
  std::thread t1([&] {
    auto c1 = pg::connect(dsn);
    applied[0] = pg::apply_migrations(*c1, "catalog", catalog::migrations());
  });
  std::thread t2([&] {
    auto c2 = pg::connect(dsn);
    applied[1] = pg::apply_migrations(*c2, "catalog", catalog::migrations());
  });
  t1.join();
  t2.join();
  CHECK(applied[0] + applied[1] == static_cast<int>(catalog::migrations().size()));
  CHECK(pg::apply_migrations(*c, "catalog", catalog::migrations()) == 0);
  CHECK_NOTHROW(pg::require_schema_version(*c, "catalog", catalog::current_version()));
  CHECK_THROWS_WITH(pg::require_schema_version(*c, "catalog", catalog::current_version() - 1),
                    Catch::Contains("newer than this build"));

  CHECK(pg::apply_migrations(*c, "pollbook", pollbook::migrations()) ==
        static_cast<int>(pollbook::migrations().size()));
  const auto ballot_dsn = testing::fresh_database(testing::pg().ballot);
  auto b = pg::connect(ballot_dsn);
  CHECK(pg::apply_migrations(*b, "ballotbox", ballotbox::migrations()) ==
        static_cast<int>(ballotbox::migrations().size()));
}

TEST_CASE("pollbook and ballotbox tables carry no timestamps or serial ids", "[integration]") {
  const auto dsn = testing::fresh_database(testing::pg().main);
  auto c = pg::connect(dsn);
  pg::apply_migrations(*c, "pollbook", pollbook::migrations());
  pg::apply_migrations(*c, "ballotbox", ballotbox::migrations());
  pqxx::nontransaction tx(*c);
  const auto r = tx.exec(
      "SELECT table_schema || '.' || table_name || '.' || column_name FROM information_schema.columns"
      " WHERE table_schema IN ('pollbook', 'ballotbox') AND table_name <> 'schema_migrations'"
      " AND (data_type LIKE 'timestamp%' OR data_type = 'date' OR column_default LIKE 'nextval%')");
  for (const auto& row : r) FAIL("column leaks arrival order: " << row[0].as<std::string>());
  CHECK(r.empty());
}

TEST_CASE("each role touches only its own schema, and readers see aggregates only", "[integration]") {
  const auto dsn = testing::fresh_database(testing::pg().main);
  {
    auto owner = pg::connect(dsn);
    pg::apply_migrations(*owner, "catalog", catalog::migrations());
    pg::apply_migrations(*owner, "pollbook", pollbook::migrations());
  }
  const auto as = [&](const std::string& role) { return pg::connect(testing::as_role(dsn, role)); };
  const auto denied = [](pqxx::connection& c, const std::string& sql) {
    try {
      pqxx::nontransaction tx(c);
      tx.exec(sql);
      return false;
    } catch (const pqxx::insufficient_privilege&) {
      return true;
    }
  };
  auto reader = as("splitvote_pollbook_reader");
  CHECK(denied(*reader, "SELECT * FROM pollbook.submissions"));
  CHECK(denied(*reader, "SELECT * FROM catalog.polls"));
  {
    pqxx::nontransaction tx(*reader);
    CHECK(tx.exec("SELECT submissions FROM pollbook.participation('00000000-0000-0000-0000-000000000000')")[0][0]
              .as<int>() == 0);
    CHECK_FALSE(
        tx.exec("SELECT pollbook.has_submitted('00000000-0000-0000-0000-000000000000', '\\x00')")[0][0].as<bool>());
  }
  auto consumer = as("splitvote_pollbook");
  CHECK(denied(*consumer, "SELECT * FROM catalog.polls"));
  {
    pqxx::nontransaction tx(*consumer);
    CHECK(tx.exec("SELECT count(*) FROM pollbook.submissions")[0][0].as<int>() == 0);
  }
  auto ingest = as("splitvote_catalog");
  CHECK(denied(*ingest, "SELECT * FROM pollbook.submissions"));
  CHECK(denied(*ingest, "SELECT * FROM pollbook.consumer_offsets"));
}
