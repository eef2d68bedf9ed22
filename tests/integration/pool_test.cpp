#include "splitvote/pg/pool.hpp"
#include "splitvote/testing/environment.hpp"

#include <catch2/catch.hpp>

using namespace splitvote;
using namespace std::chrono_literals;

namespace {

std::string show_statement_timeout(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  return tx.exec1("SHOW statement_timeout")[0].as<std::string>();
}

}  // namespace

TEST_CASE("every session runs under a statement timeout", "[pool][statement-timeout]") {
  const auto dsn = testing::pg().main + "/postgres";

  SECTION("connect sets the default when none is given") {
    auto c = pg::connect(dsn);
    CHECK(show_statement_timeout(*c) == "30s");
  }

  SECTION("the pool's connections have the configured one, and a longer statement is cancelled") {
    pg::pool pool(dsn, 2, pg::session_limits{250ms});
    auto c = pool.acquire();
    CHECK(show_statement_timeout(*c) == "250ms");
    pqxx::nontransaction tx(*c);
    try {
      tx.exec("SELECT pg_sleep(5)");
      FAIL("pg_sleep(5) ran to its end under a 250 ms statement timeout");
    } catch (const pqxx::sql_error& e) {
      CHECK(e.sqlstate() == "57014");  // query_canceled
    }
  }

  SECTION("the connection stays usable after a cancelled statement") {
    pg::pool pool(dsn, 1, pg::session_limits{250ms});
    {
      auto c = pool.acquire();
      pqxx::nontransaction tx(*c);
      CHECK_THROWS_AS(tx.exec("SELECT pg_sleep(5)"), pqxx::sql_error);
    }
    auto c = pool.acquire();
    pqxx::nontransaction tx(*c);
    CHECK(tx.exec1("SELECT 1")[0].as<int>() == 1);
  }
}
