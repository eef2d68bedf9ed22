#include "splitvote/catalog/polls.hpp"

#include "splitvote/random/random_source.hpp"

#include <algorithm>
#include <cstring>

namespace splitvote::catalog {
namespace {

constexpr const char* select_poll =
    "SELECT id::text, title, decoy_distribution, decoy_k, decoy_min,"
    " decoy_max, decoy_mean, decoy_cap, eligible_count, admin_token_hash,"
    " (extract(epoch FROM created_at) * 1000000)::bigint,"
    " (extract(epoch FROM closes_at) * 1000000)::bigint,"
    " (extract(epoch FROM closed_at) * 1000000)::bigint"
    " FROM catalog.polls WHERE id = $1::uuid";

time_point from_micros(std::int64_t us) { return time_point(std::chrono::microseconds(us)); }

std::int64_t to_micros(time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

void create_poll(pqxx::connection& c, const poll& p,
                 const std::vector<privacy::actor_key>& eligible) {
  pqxx::work tx(c);
  std::optional<std::int64_t> closes;
  if (p.closes_at) closes = to_micros(*p.closes_at);
  tx.exec_params(
      "INSERT INTO catalog.polls (id, title, decoy_distribution, decoy_k, decoy_min,"
      " decoy_max, decoy_mean, decoy_cap, eligible_count, admin_token_hash, closes_at)"
      " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, decode($10, 'hex'),"
      " to_timestamp($11::bigint / 1000000.0))",
      p.id, p.title, privacy::to_string(p.decoys.distribution),
      static_cast<std::int64_t>(p.decoys.k), static_cast<std::int64_t>(p.decoys.min),
      static_cast<std::int64_t>(p.decoys.max), p.decoys.mean,
      static_cast<std::int64_t>(p.decoys.cap), static_cast<std::int64_t>(eligible.size()),
      random::to_hex(p.admin_token_hash), closes);
  {
    pqxx::stream_to rows(tx, "catalog.poll_choices");
    for (std::size_t i = 0; i < p.choices.size(); ++i)
      rows << std::make_tuple(p.id, static_cast<std::int64_t>(i), p.choices[i]);
    rows.complete();
  }
  if (!eligible.empty()) {
    pqxx::stream_to rows(tx, "catalog.eligible_actors");
    for (const auto& key : eligible)
      rows << std::make_tuple(p.id, "\\x" + random::to_hex(key));
    rows.complete();
  }
  tx.commit();
}

std::optional<poll> find_poll(pqxx::connection& c, const std::string& id) {
  pqxx::read_transaction tx(c);
  const auto r = tx.exec_params(select_poll, id);
  if (r.empty()) return std::nullopt;
  const auto row = r[0];
  poll p;
  p.id = row[0].as<std::string>();
  p.title = row[1].as<std::string>();
  p.decoys.distribution = privacy::parse_decoy_distribution(row[2].as<std::string>());
  p.decoys.k = row[3].as<std::uint32_t>();
  p.decoys.min = row[4].as<std::uint32_t>();
  p.decoys.max = row[5].as<std::uint32_t>();
  p.decoys.mean = row[6].as<double>();
  p.decoys.cap = row[7].as<std::uint32_t>();
  p.eligible_count = row[8].as<std::int64_t>();
  const pqxx::binarystring hash(row[9]);
  std::memcpy(p.admin_token_hash.data(), hash.data(), std::min(hash.size(), p.admin_token_hash.size()));
  p.created_at = from_micros(row[10].as<std::int64_t>());
  if (!row[11].is_null()) p.closes_at = from_micros(row[11].as<std::int64_t>());
  if (!row[12].is_null()) p.closed_at = from_micros(row[12].as<std::int64_t>());
  for (const auto& choice : tx.exec_params(
           "SELECT label FROM catalog.poll_choices WHERE poll_id = $1::uuid ORDER BY position", id))
    p.choices.push_back(choice[0].as<std::string>());
  return p;
}

std::optional<poll> close_poll(pqxx::connection& c, const std::string& id) {
  {
    pqxx::work tx(c);
    tx.exec_params("UPDATE catalog.polls SET closed_at = now() WHERE id = $1::uuid AND closed_at IS NULL", id);
    tx.commit();
  }
  return find_poll(c, id);
}

bool is_eligible(pqxx::connection& c, const std::string& poll_id, const privacy::actor_key& key) {
  pqxx::read_transaction tx(c);
  return !tx.exec_params(
                "SELECT 1 FROM catalog.eligible_actors WHERE poll_id = $1::uuid AND actor_key = decode($2, 'hex')",
                poll_id, random::to_hex(key))
              .empty();
}

}  // namespace splitvote::catalog
