#include "splitvote/catalog/polls.hpp"
#include "splitvote/catalog/schema.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/testing/environment.hpp"

#include <catch2/catch.hpp>

using namespace splitvote;

TEST_CASE("a poll round-trips through the catalog and closes", "[integration]") {
  auto c = pg::connect(testing::fresh_database(testing::pg().main));
  pg::apply_migrations(*c, "catalog", catalog::migrations());

  catalog::poll p;
  p.id = "8d0c7d5e-2f4b-4a57-9d7c-0f1e2d3c4b5a";
  p.title = "Quoted \"title\", with {braces} and \\ backslash";
  p.choices = {"pizza", "sushi, raw", "sa\"lad", "{x}"};
  p.decoys = privacy::default_decoys();
  p.admin_token_hash = privacy::token_hash("token");
  p.closes_at = std::chrono::system_clock::time_point(std::chrono::seconds(1900000000));
  const auto alice = privacy::derive_actor_key("secret-secret-secret", p.id, "alice");
  const auto bob = privacy::derive_actor_key("secret-secret-secret", p.id, "bob");
  catalog::create_poll(*c, p, {alice});

  const auto found = catalog::find_poll(*c, p.id);
  REQUIRE(found);
  CHECK(found->title == p.title);
  CHECK(found->choices == p.choices);
  CHECK(found->decoys == p.decoys);
  CHECK(found->eligible_count == 1);
  CHECK(privacy::equal_digest(found->admin_token_hash, p.admin_token_hash));
  CHECK(found->closes_at == p.closes_at);
  CHECK_FALSE(found->closed_at);
  CHECK(catalog::is_eligible(*c, p.id, alice));
  CHECK_FALSE(catalog::is_eligible(*c, p.id, bob));

  const auto closed = catalog::close_poll(*c, p.id);
  REQUIRE(closed);
  CHECK(closed->is_closed(std::chrono::system_clock::now()));
  CHECK_FALSE(catalog::find_poll(*c, "00000000-0000-0000-0000-000000000000"));
}
