#include "splitvote/catalog/polls.hpp"
#include "splitvote/catalog/schema.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/testing/environment.hpp"

#include <catch2/catch.hpp>

using namespace splitvote;

namespace {

/// A connection to a fresh database with the catalog's migrations applied.
std::unique_ptr<pqxx::connection> migrated_catalog() {
  auto c = pg::connect(testing::fresh_database(testing::pg().main));
  pg::apply_migrations(*c, "catalog", catalog::migrations());
  return c;
}

/// A poll with the default privacy settings.
catalog::poll poll_of(const std::string& id, const std::string& title, const std::vector<std::string>& choices) {
  catalog::poll p;
  p.id = id;
  p.title = title;
  p.choices = choices;
  p.privacy = privacy::policy::defaults();
  return p;
}

}  // namespace

TEST_CASE("a poll round-trips through the catalog and closes", "[integration]") {
  auto c = migrated_catalog();

  auto p = poll_of("8d0c7d5e-2f4b-4a57-9d7c-0f1e2d3c4b5a", "Quoted \"title\", with {braces} and \\ backslash",
                   {"pizza", "sushi, raw", "sa\"lad", "{x}"});
  p.admin_token_hash = privacy::token_hash("token");
  p.closes_at = std::chrono::system_clock::time_point(std::chrono::seconds(1900000000));
  p.key_hex = std::string(64, 'a');
  const auto alice = privacy::derive_actor_key("secret-secret-secret", p.id, "alice");
  const auto bob = privacy::derive_actor_key("secret-secret-secret", p.id, "bob");
  p.admin_token_scheme = catalog::token_scheme::sha256;  // as polls from before keyed hashes
  catalog::create_poll(*c, p, {catalog::eligible_actor{alice, std::nullopt}});

  const auto found = catalog::find_poll(*c, p.id);
  REQUIRE(found);
  CHECK(found->title == p.title);
  CHECK(found->choices == p.choices);
  CHECK(found->privacy == p.privacy);
  CHECK(found->eligible_count == 1);
  CHECK(privacy::equal_digest(found->admin_token_hash, p.admin_token_hash));
  CHECK(found->closes_at == p.closes_at);
  CHECK_FALSE(found->closed_at);
  CHECK(found->admin_token_scheme == catalog::token_scheme::sha256);
  CHECK(found->voter_auth == catalog::voter_auth::open);
  CHECK(found->results_visibility == catalog::results_visibility::admin);
  CHECK(catalog::is_eligible(*c, p.id, alice));
  CHECK_FALSE(catalog::is_eligible(*c, p.id, bob));

  CHECK_FALSE(catalog::latest_release(*c, p.id));
  catalog::release r{1, 10, 30, std::string(64, 'a'), {5, 2, 2, 0}, 2.0, {}};
  CHECK(catalog::record_release(*c, p.id, r));
  CHECK_FALSE(catalog::record_release(*c, p.id, r));  // seq 1 is taken: a concurrent writer lost
  const auto latest = catalog::latest_release(*c, p.id);
  REQUIRE(latest);
  CHECK(latest->seq == 1);
  CHECK(latest->ballots == 30);
  CHECK(latest->tally_digest == r.tally_digest);
  CHECK(latest->released == r.released);
  CHECK(latest->epsilon_spent == 2.0);

  // The admin token is replaced only over the hash the caller checked (a rotation that lost a
  // race changes nothing), and the scheme becomes the keyed one.
  const auto next = privacy::token_hash("next"), other = privacy::token_hash("other");
  CHECK_FALSE(catalog::replace_admin_token(*c, p.id, other, next));
  CHECK(privacy::equal_digest(catalog::find_poll(*c, p.id)->admin_token_hash, p.admin_token_hash));
  const auto rotated = catalog::replace_admin_token(*c, p.id, p.admin_token_hash, next);
  REQUIRE(rotated);
  CHECK(privacy::equal_digest(rotated->admin_token_hash, next));
  CHECK(rotated->admin_token_scheme == catalog::token_scheme::hmac_sha256);
  CHECK_FALSE(catalog::replace_admin_token(*c, p.id, p.admin_token_hash, other));
  CHECK_FALSE(catalog::replace_admin_token(*c, "00000000-0000-4000-8000-000000000000", next, other));

  const auto closed = catalog::close_poll(*c, p.id);
  REQUIRE(closed);
  CHECK(closed->is_closed(std::chrono::system_clock::now()));
  CHECK(closed->actor_key_salt() == p.key_hex);

  // Crypto-shredding: within the grace period the key stays; after it, it is gone.
  CHECK(catalog::shred_keys(*c, std::chrono::hours(1)) == 0);
  CHECK(catalog::shred_keys(*c, std::chrono::seconds(0)) == 1);
  const auto shredded = catalog::find_poll(*c, p.id);
  REQUIRE(shredded);
  CHECK(shredded->shredded);
  CHECK(shredded->key_hex.empty());
  CHECK(shredded->actor_key_salt().empty());
  CHECK(catalog::shred_keys(*c, std::chrono::seconds(0)) == 0);
  CHECK_FALSE(catalog::find_poll(*c, "00000000-0000-0000-0000-000000000000"));

  // A thief with the table's file: the deleted key's bytes are there until the table is
  // rewritten (a DELETE only marks the row dead), and gone after.
  std::string key(32, '\0');
  for (std::size_t i = 0; i < key.size(); ++i)
    key[i] = static_cast<char>(std::stoi(p.key_hex.substr(2 * i, 2), nullptr, 16));
  const auto key_in_table_file = [&] {
    std::string path;
    {
      pqxx::nontransaction tx(*c);
      tx.exec("CHECKPOINT");  // what is in shared buffers reaches the file
      path =
          tx.exec("SELECT current_setting('data_directory') || '/' || pg_relation_filepath('catalog.poll_keys')")[0][0]
              .as<std::string>();
    }
    return testing::read_file(path).find(key) != std::string::npos;
  };
  CHECK(key_in_table_file());
  catalog::rewrite_poll_keys(*c);
  CHECK_FALSE(key_in_table_file());
}

TEST_CASE("a tokens poll finds each actor's key by the keyed hash of the actor's token only", "[integration]") {
  auto c = migrated_catalog();
  auto p = poll_of("5b1f0e9a-7c3d-4e2f-8a6b-1d2c3e4f5a6b", "tokens", {"yes", "no"});
  p.voter_auth = catalog::voter_auth::tokens;
  p.results_visibility = catalog::results_visibility::open_to_all;
  p.admin_token_hash = privacy::keyed_token_hash("token-key-token-key", "admin/" + p.id, "admin");
  p.key_hex = std::string(64, 'b');
  const auto alice = privacy::derive_actor_key("secret-secret-secret", p.key_hex, "alice");
  const auto bob = privacy::derive_actor_key("secret-secret-secret", p.key_hex, "bob");
  const auto hash = [&](const std::string& token) {
    return privacy::keyed_token_hash("token-key-token-key", "voter/" + p.id, token);
  };
  catalog::create_poll(*c, p, {{alice, hash("token-a")}, {bob, hash("token-b")}});

  const auto found = catalog::find_poll(*c, p.id);
  REQUIRE(found);
  CHECK(found->voter_auth == catalog::voter_auth::tokens);
  CHECK(found->results_visibility == catalog::results_visibility::open_to_all);
  CHECK(found->admin_token_scheme == catalog::token_scheme::hmac_sha256);
  CHECK(found->eligible_count == 2);
  CHECK(catalog::actor_for_token(*c, p.id, hash("token-a")) == alice);
  CHECK(catalog::actor_for_token(*c, p.id, hash("token-b")) == bob);
  CHECK_FALSE(catalog::actor_for_token(*c, p.id, hash("token-c")));
  CHECK_FALSE(catalog::actor_for_token(*c, p.id, privacy::token_hash("token-a")));  // an unkeyed hash is no key
  CHECK_FALSE(catalog::actor_for_token(*c, "00000000-0000-4000-8000-000000000000", hash("token-a")));
  // The same token hash twice in one poll is refused by the unique index.
  catalog::poll q = p;
  q.id = "6c2a1f0b-8d4e-4f3a-9b7c-2e3d4f5a6b7c";
  CHECK_THROWS(catalog::create_poll(*c, q, {{alice, hash("same")}, {bob, hash("same")}}));
  CHECK_FALSE(catalog::find_poll(*c, q.id));  // one transaction: nothing of q stayed
}
