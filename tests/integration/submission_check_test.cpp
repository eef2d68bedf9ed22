// The batched "already voted?" lookup against a real pollbook, as the role ingest uses.
#include "splitvote/pollbook/submission_check.hpp"
#include "splitvote/pg/migrations.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/pollbook/queries.hpp"
#include "splitvote/pollbook/schema.hpp"
#include "splitvote/random/random_source.hpp"
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/process.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

using namespace splitvote;
using key = pollbook::submission_check::actor_key;

namespace {

key key_of(int i) {
  key k{};
  k[0] = static_cast<std::byte>(i & 0xff);
  k[1] = static_cast<std::byte>(i >> 8);
  return k;
}

}  // namespace

TEST_CASE("batched lookups answer each vote as has_submitted would, from many threads at once", "[integration]") {
  const auto dsn = testing::fresh_database(testing::pg().main);
  const std::string poll = "6a0b8a4e-0000-4000-8000-0000000000aa", other = "6a0b8a4e-0000-4000-8000-0000000000bb";
  {
    auto owner = pg::connect(dsn);
    pg::apply_migrations(*owner, "pollbook", pollbook::migrations());
    pqxx::work tx(*owner);
    for (int i = 0; i < 600; i += 3)  // every third actor has voted in `poll`; actor 1 only in `other`
      tx.exec_params("INSERT INTO pollbook.submissions VALUES ($1::uuid, gen_random_uuid(), decode($2, 'hex'))", poll,
                     random::to_hex(key_of(i)));
    tx.exec_params("INSERT INTO pollbook.submissions VALUES ($1::uuid, gen_random_uuid(), decode($2, 'hex'))", other,
                   random::to_hex(key_of(1)));
    tx.commit();
  }
  pg::pool pool(testing::as_role(dsn, "splitvote_pollbook_reader"), 2);
  {
    auto c = pool.acquire();
    CHECK(pollbook::submitted_among(*c, poll, {}).empty());
    CHECK(pollbook::submitted_among(*c, poll, {key_of(3), key_of(4), key_of(3)}) ==
          std::vector<bool>{true, false, true});
  }
  pollbook::submission_check check(pool, 64);  // a small batch bound: several rounds
  std::atomic<int> answered{0}, wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = t; i < 600; i += 4) {
        const std::string& p = i % 5 == 0 ? other : poll;  // two polls in one round
        const bool expected = p == poll ? i % 3 == 0 : i == 1;
        check.submit(p, key_of(i), [&, expected](std::exception_ptr error, bool submitted) {
          if (error)
            ++failed;
          else if (submitted != expected)
            ++wrong;
          ++answered;
        });
      }
    });
  for (auto& t : threads) t.join();
  REQUIRE(testing::eventually([&] { return answered == 600; }, std::chrono::seconds(30)));
  CHECK(wrong == 0);
  CHECK(failed == 0);
}

TEST_CASE(
    "a lookup the database cannot answer fails with the query's exception, and a stopped checker answers the rest",
    "[integration]") {
  const auto dsn = testing::fresh_database(testing::pg().main);
  {
    auto owner = pg::connect(dsn);
    pg::apply_migrations(*owner, "pollbook", pollbook::migrations());
  }
  pg::pool pool(testing::as_role(dsn, "splitvote_pollbook_reader"), 1);
  {
    pollbook::submission_check check(pool);
    std::promise<std::exception_ptr> bad;
    check.submit("not-a-uuid", key_of(1), [&](std::exception_ptr error, bool) { bad.set_value(error); });
    const auto error = bad.get_future().get();
    REQUIRE(error);
    CHECK_THROWS_AS(std::rethrow_exception(error), pqxx::sql_error);
    // One callback that throws does not stop the worker.
    std::promise<bool> after;
    check.submit("6a0b8a4e-0000-4000-8000-0000000000aa", key_of(2),
                 [](std::exception_ptr, bool) { throw std::runtime_error("x"); });
    check.submit("6a0b8a4e-0000-4000-8000-0000000000aa", key_of(2),
                 [&](std::exception_ptr e, bool s) { after.set_value(!e && !s); });
    CHECK(after.get_future().get());
  }
  // Destroyed while its worker waits for a connection: the lookup it holds fails with the
  // pool's timeout, the ones still queued are answered `stopped`, each callback exactly once.
  std::atomic<int> stopped{0}, unavailable{0}, answered{0};
  {
    auto held = pool.acquire();                 // the only connection: the worker waits up to 5 s for it
    pollbook::submission_check check(pool, 1);  // one lookup per round: two stay queued
    for (int i = 0; i < 3; ++i)
      check.submit("6a0b8a4e-0000-4000-8000-0000000000aa", key_of(i), [&](std::exception_ptr e, bool) {
        try {
          if (e) std::rethrow_exception(e);
        } catch (const pollbook::submission_check::stopped&) {
          ++stopped;
        } catch (const pg::unavailable&) {
          ++unavailable;
        } catch (...) {
        }
        ++answered;
      });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the worker has taken its one
  }
  CHECK(answered == 3);
  CHECK(stopped == 2);
  CHECK(unavailable == 1);
}
