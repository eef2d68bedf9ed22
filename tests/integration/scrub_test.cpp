#include "splitvote/pg/scrub.hpp"
#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/pg/migrations.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/testing/environment.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <set>
#include <thread>

using namespace splitvote;

namespace {

struct row_state {
  std::string id;
  std::int64_t xmin;
  std::int64_t position;  // physical order (ctid)
};

std::vector<row_state> read_rows(pqxx::connection& c) {
  pqxx::read_transaction tx(c);
  std::vector<row_state> out;
  std::int64_t position = 0;
  for (const auto& r : tx.exec("SELECT random_id::text, xmin::text::bigint FROM ballotbox.ballots ORDER BY ctid"))
    out.push_back({r[0].as<std::string>(), r[1].as<std::int64_t>(), position++});
  return out;
}

/// Spearman's rank correlation between insertion order (`order`) and physical position.
double rank_correlation(const std::vector<row_state>& rows, const std::map<std::string, int>& order) {
  const double n = static_cast<double>(rows.size());
  double d2 = 0;
  for (const auto& r : rows) {
    const double d = static_cast<double>(order.at(r.id)) - static_cast<double>(r.position);
    d2 += d * d;
  }
  return 1 - 6 * d2 / (n * (n * n - 1));
}

}  // namespace

TEST_CASE("a scrub leaves the rows and takes away their order and transaction ids", "[integration]") {
  const auto dsn = testing::fresh_database(testing::pg().ballot);
  auto c = pg::connect(dsn);
  pg::apply_migrations(*c, "ballotbox", ballotbox::migrations());
  const std::string poll = "6a0b8a4e-0000-4000-8000-000000000001";
  std::map<std::string, int> order;
  for (int batch = 0; batch < 40; ++batch) {
    pqxx::work tx(*c);
    for (int i = 0; i < 10; ++i) {
      const auto r = tx.exec_params(
          "INSERT INTO ballotbox.ballots VALUES ($1::uuid, gen_random_uuid(), $2) RETURNING random_id::text", poll,
          i % 3);
      order[r[0][0].as<std::string>()] = static_cast<int>(order.size());
    }
    tx.commit();
  }
  const auto before = read_rows(*c);
  std::set<std::int64_t> xmins_before;
  for (const auto& r : before) xmins_before.insert(r.xmin);
  CHECK(xmins_before.size() == 40);               // one per batch: arrival is visible
  CHECK(rank_correlation(before, order) > 0.99);  // physical order follows arrival

  // A writer keeps inserting while the scrub runs: it waits, and loses nothing.
  std::atomic<bool> done{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    auto w = pg::connect(dsn);
    while (!done) {
      pqxx::work tx(*w);
      tx.exec_params("INSERT INTO ballotbox.ballots VALUES ($1::uuid, gen_random_uuid(), 1)", poll);
      tx.commit();
      ++written;
    }
  });
  const auto rewritten = pg::scrub_tables(*c, ballotbox::scrubbed_tables());
  done = true;
  writer.join();
  CHECK(rewritten >= 400);

  const auto after = read_rows(*c);
  CHECK(after.size() == 400 + static_cast<std::size_t>(written));
  std::set<std::string> ids_after;
  for (const auto& r : after) ids_after.insert(r.id);
  for (const auto& [id, _] : order) CHECK(ids_after.count(id) == 1);

  // The 400 scrubbed rows now share one xmin and sit in random physical order.
  std::vector<row_state> scrubbed;
  for (const auto& r : after)
    if (order.count(r.id)) scrubbed.push_back(r);
  std::set<std::int64_t> xmins_after;
  for (const auto& r : scrubbed) xmins_after.insert(r.xmin);
  CHECK(xmins_after.size() == 1);
  std::int64_t position = 0;
  for (auto& r : scrubbed) r.position = position++;
  // |rho| for a random order of 400 has sd 0.05: 0.2 is four of them.
  CHECK(std::abs(rank_correlation(scrubbed, order)) < 0.2);
}
