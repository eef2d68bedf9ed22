#include "splitvote/catalog/polls.hpp"

#include "splitvote/pg/scrub.hpp"
#include "splitvote/random/random_source.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace splitvote::catalog {
namespace {

constexpr const char* select_poll =
    "SELECT id::text, title, decoy_distribution, decoy_k, decoy_min,"
    " decoy_max, decoy_mean, decoy_cap, eligible_count, admin_token_hash,"
    " (extract(epoch FROM created_at) * 1000000)::bigint,"
    " (extract(epoch FROM closes_at) * 1000000)::bigint,"
    " (extract(epoch FROM closed_at) * 1000000)::bigint,"
    " rr_p, noise_mechanism, noise_epsilon, noise_delta, privacy_budget,"
    " (SELECT encode(key, 'hex') FROM catalog.poll_keys k WHERE k.poll_id = polls.id), keys_shredded_at IS NOT NULL,"
    " voter_auth, results_visibility, token_scheme"
    " FROM catalog.polls WHERE id = $1::uuid";

time_point from_micros(std::int64_t us) { return time_point(std::chrono::microseconds(us)); }

std::int64_t to_micros(time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

void create_poll(pqxx::connection& c, const poll& p, const std::vector<eligible_actor>& eligible) {
  pqxx::work tx(c);
  std::optional<std::int64_t> closes;
  if (p.closes_at) closes = to_micros(*p.closes_at);
  tx.exec_params(
      "INSERT INTO catalog.polls (id, title, decoy_distribution, decoy_k, decoy_min,"
      " decoy_max, decoy_mean, decoy_cap, eligible_count, admin_token_hash, closes_at,"
      " rr_p, noise_mechanism, noise_epsilon, noise_delta, privacy_budget,"
      " voter_auth, results_visibility, token_scheme)"
      " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, decode($10, 'hex'),"
      " to_timestamp($11::bigint / 1000000.0), $12, $13, $14, $15, $16, $17, $18, $19)",
      p.id, p.title, privacy::to_string(p.privacy.decoys.distribution), static_cast<std::int64_t>(p.privacy.decoys.k),
      static_cast<std::int64_t>(p.privacy.decoys.min), static_cast<std::int64_t>(p.privacy.decoys.max),
      p.privacy.decoys.mean, static_cast<std::int64_t>(p.privacy.decoys.cap),
      static_cast<std::int64_t>(eligible.size()), random::to_hex(p.admin_token_hash), closes, p.privacy.rr.p,
      privacy::to_string(p.privacy.noise.mechanism), p.privacy.noise.epsilon, p.privacy.noise.delta, p.privacy.budget,
      std::string(to_string(p.voter_auth)), std::string(to_string(p.results_visibility)),
      std::string(p.admin_token_scheme == token_scheme::sha256 ? "sha256" : "hmac-sha256"));
  if (!p.key_hex.empty())
    tx.exec_params("INSERT INTO catalog.poll_keys (poll_id, key) VALUES ($1::uuid, decode($2, 'hex'))", p.id,
                   p.key_hex);
  {
    pqxx::stream_to rows(tx, "catalog.poll_choices");
    for (std::size_t i = 0; i < p.choices.size(); ++i)
      rows << std::make_tuple(p.id, static_cast<std::int64_t>(i), p.choices[i]);
    rows.complete();
  }
  const bool with_tokens =
      std::any_of(eligible.begin(), eligible.end(), [](const auto& a) { return a.token_hash.has_value(); });
  if (with_tokens) {
    pqxx::stream_to rows(tx, "catalog.eligible_actors", std::vector<std::string>{"poll_id", "actor_key", "token_hash"});
    for (const auto& a : eligible)
      rows << std::make_tuple(p.id, "\\x" + random::to_hex(a.key), "\\x" + random::to_hex(a.token_hash.value()));
    rows.complete();
  } else if (!eligible.empty()) {
    pqxx::stream_to rows(tx, "catalog.eligible_actors", std::vector<std::string>{"poll_id", "actor_key"});
    for (const auto& a : eligible) rows << std::make_tuple(p.id, "\\x" + random::to_hex(a.key));
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
  p.privacy.decoys.distribution = privacy::parse_decoy_distribution(row[2].as<std::string>());
  p.privacy.decoys.k = row[3].as<std::uint32_t>();
  p.privacy.decoys.min = row[4].as<std::uint32_t>();
  p.privacy.decoys.max = row[5].as<std::uint32_t>();
  p.privacy.decoys.mean = row[6].as<double>();
  p.privacy.decoys.cap = row[7].as<std::uint32_t>();
  p.eligible_count = row[8].as<std::int64_t>();
  const pqxx::binarystring hash(row[9]);
  std::memcpy(p.admin_token_hash.data(), hash.data(), std::min(hash.size(), p.admin_token_hash.size()));
  p.created_at = from_micros(row[10].as<std::int64_t>());
  if (!row[11].is_null()) p.closes_at = from_micros(row[11].as<std::int64_t>());
  if (!row[12].is_null()) p.closed_at = from_micros(row[12].as<std::int64_t>());
  p.privacy.rr.p = row[13].as<double>();
  p.privacy.noise.mechanism = privacy::parse_noise_mechanism(row[14].as<std::string>());
  p.privacy.noise.epsilon = row[15].as<double>();
  p.privacy.noise.delta = row[16].as<double>();
  p.privacy.budget = row[17].as<double>();
  if (!row[18].is_null()) p.key_hex = row[18].as<std::string>();
  p.shredded = row[19].as<bool>();
  // A mode this build does not know (a newer migration's) must not fall back to the weakest.
  const auto auth = parse_voter_auth(row[20].as<std::string>());
  if (!auth) throw std::runtime_error("poll " + p.id + ": unknown voter_auth '" + row[20].as<std::string>() + "'");
  p.voter_auth = *auth;
  p.results_visibility = parse_results_visibility(row[21].as<std::string>()).value_or(results_visibility::admin);
  p.admin_token_scheme = row[22].as<std::string>() == "sha256" ? token_scheme::sha256 : token_scheme::hmac_sha256;
  for (const auto& choice :
       tx.exec_params("SELECT label FROM catalog.poll_choices WHERE poll_id = $1::uuid ORDER BY position", id))
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

std::optional<poll> replace_admin_token(pqxx::connection& c, const std::string& id,
                                        const std::array<std::byte, 32>& expected,
                                        const std::array<std::byte, 32>& replacement) {
  {
    pqxx::work tx(c);
    const auto r = tx.exec_params(
        "UPDATE catalog.polls SET admin_token_hash = decode($3, 'hex'), token_scheme = 'hmac-sha256'"
        " WHERE id = $1::uuid AND admin_token_hash = decode($2, 'hex')",
        id, random::to_hex(expected), random::to_hex(replacement));
    if (r.affected_rows() != 1) return std::nullopt;
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

std::optional<privacy::actor_key> actor_for_token(pqxx::connection& c, const std::string& poll_id,
                                                  const std::array<std::byte, 32>& token_hash) {
  pqxx::read_transaction tx(c);
  const auto r = tx.exec_params(
      "SELECT actor_key FROM catalog.eligible_actors WHERE poll_id = $1::uuid AND token_hash = decode($2, 'hex')",
      poll_id, random::to_hex(token_hash));
  if (r.empty()) return std::nullopt;
  const pqxx::binarystring key(r[0][0]);
  privacy::actor_key out{};
  if (key.size() != out.size()) return std::nullopt;
  std::memcpy(out.data(), key.data(), out.size());
  return out;
}

int shred_keys(pqxx::connection& c, std::chrono::seconds grace) {
  pqxx::work tx(c);
  const auto r = tx.exec_params(
      "WITH due AS (UPDATE catalog.polls SET keys_shredded_at = now()"
      " WHERE keys_shredded_at IS NULL AND least(closed_at, closes_at) < now() - make_interval(secs => $1)"
      " RETURNING id)"
      " DELETE FROM catalog.poll_keys WHERE poll_id IN (SELECT id FROM due)",
      static_cast<double>(grace.count()));
  tx.commit();
  return static_cast<int>(r.affected_rows());
}

void rewrite_poll_keys(pqxx::connection& c) { pg::scrub_tables(c, {"catalog.poll_keys"}); }

std::optional<release> latest_release(pqxx::connection& c, const std::string& poll_id) {
  pqxx::read_transaction tx(c);
  const auto head = tx.exec_params(
      "SELECT seq, envelopes, epsilon_spent, (extract(epoch FROM released_at) * 1000000)::bigint, ballots,"
      " coalesce(tally_digest, '')"
      " FROM catalog.releases WHERE poll_id = $1::uuid ORDER BY seq DESC LIMIT 1",
      poll_id);
  if (head.empty()) return std::nullopt;
  release r;
  r.seq = head[0][0].as<int>();
  r.envelopes = head[0][1].as<std::int64_t>();
  r.epsilon_spent = head[0][2].as<double>();
  r.released_at = from_micros(head[0][3].as<std::int64_t>());
  r.ballots = head[0][4].as<std::int64_t>();
  r.tally_digest = head[0][5].as<std::string>();
  for (const auto& row : tx.exec_params(
           "SELECT released FROM catalog.released_counts WHERE poll_id = $1::uuid AND seq = $2 ORDER BY choice",
           poll_id, r.seq))
    r.released.push_back(row[0].as<std::int64_t>());
  return r;
}

bool record_release(pqxx::connection& c, const std::string& poll_id, const release& r) {
  pqxx::work tx(c);
  const auto inserted = tx.exec_params(
      "INSERT INTO catalog.releases (poll_id, seq, envelopes, epsilon_spent, ballots, tally_digest)"
      " VALUES ($1::uuid, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
      poll_id, r.seq, r.envelopes, r.epsilon_spent, r.ballots, r.tally_digest);
  if (inserted.affected_rows() != 1) return false;
  for (std::size_t j = 0; j < r.released.size(); ++j)
    tx.exec_params("INSERT INTO catalog.released_counts (poll_id, seq, choice, released) VALUES ($1::uuid, $2, $3, $4)",
                   poll_id, r.seq, static_cast<std::int64_t>(j), r.released[j]);
  tx.commit();
  return true;
}

}  // namespace splitvote::catalog
