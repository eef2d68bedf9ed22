#include "splitvote/ingest/catalog_store.hpp"

#include "splitvote/catalog/polls.hpp"
#include "splitvote/pg/pool.hpp"

namespace splitvote::ingest {

namespace {

class pg_catalog final : public catalog_store {
public:
  explicit pg_catalog(pg::pool& pool) : pool_(pool) {}

  void create_poll(const catalog::poll& p, const std::vector<catalog::eligible_actor>& eligible) override {
    catalog::create_poll(*pool_.acquire(), p, eligible);
  }
  std::optional<catalog::poll> find_poll(const std::string& id) override {
    return catalog::find_poll(*pool_.acquire(), id);
  }
  std::optional<catalog::poll> close_poll(const std::string& id) override {
    return catalog::close_poll(*pool_.acquire(), id);
  }
  std::optional<catalog::poll> replace_admin_token(const std::string& id, const std::array<std::byte, 32>& expected,
                                                   const std::array<std::byte, 32>& replacement) override {
    return catalog::replace_admin_token(*pool_.acquire(), id, expected, replacement);
  }
  bool is_eligible(const std::string& poll_id, const privacy::actor_key& key) override {
    return catalog::is_eligible(*pool_.acquire(), poll_id, key);
  }
  std::optional<privacy::actor_key> actor_for_token(const std::string& poll_id,
                                                    const std::array<std::byte, 32>& token_hash) override {
    return catalog::actor_for_token(*pool_.acquire(), poll_id, token_hash);
  }
  std::optional<catalog::release> latest_release(const std::string& poll_id) override {
    return catalog::latest_release(*pool_.acquire(), poll_id);
  }
  bool record_release(const std::string& poll_id, const catalog::release& r) override {
    return catalog::record_release(*pool_.acquire(), poll_id, r);
  }
  int shred_keys(std::chrono::seconds grace) override {
    auto c = pool_.acquire();
    const int shredded = catalog::shred_keys(*c, grace);
    if (shredded > 0) catalog::rewrite_poll_keys(*c);  // the deleted keys' bytes leave the table's file
    return shredded;
  }
  bool reachable() override { return pool_.ping(); }

private:
  pg::pool& pool_;
};

}  // namespace

std::unique_ptr<catalog_store> catalog_in(pg::pool& pool) { return std::make_unique<pg_catalog>(pool); }

}  // namespace splitvote::ingest
