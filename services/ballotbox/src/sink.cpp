#include "splitvote/ballotbox/sink.hpp"

#include "splitvote/envelope/ballot_list.hpp"
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/pg/bulk.hpp"

#include <algorithm>
#include <tuple>

namespace splitvote::ballotbox {

namespace {

/// The ballot half of one envelope: its ballots (a cover's are all decoys).
struct ballots final : consumer::decoded {
  std::vector<std::pair<std::string, std::uint32_t>> list;  // random id (uuid text), choice
  std::uint32_t choices = 0;                                // the poll's m, if the envelope says
};

}  // namespace

std::unique_ptr<consumer::decoded> sink::decode(std::string_view value) {
  auto out = std::make_unique<ballots>();
  try {
    const auto env = envelope::decode(value.data(), value.size());
    if (!random::is_uuid_text(env.poll_id)) throw envelope::decode_error("poll id is not a uuid");
    const auto list = envelope::decode_ballot_list(envelope::readable_half(env.ballot_list, env.sealed, keys_));
    for (const auto& b : list.ballots) out->list.emplace_back(random::to_uuid_text(b.random_id), b.choice);
    out->poll_id = env.poll_id;
    out->choices = list.choices;
    out->real = !list.cover;  // cover envelopes: decoys only, no real ballot to count
  } catch (const envelope::decode_error&) {
    out->poll_id.clear();
    out->real = false;
    out->list.clear();
  }
  return out;
}

consumer::write_stats sink::write(pqxx::work& tx, const std::vector<const consumer::decoded*>& batch,
                                  random::random_source& rng) {
  consumer::write_stats stats;
  // poll, random id, choice, and whether the row stands for its envelope in the count (the
  // first ballot of a real envelope; the mark lives only in the temporary staging table).
  using row = std::tuple<std::string, std::string, std::uint32_t, bool>;
  std::vector<row> rows;
  for (const auto* d : batch) {
    const auto& env = static_cast<const ballots&>(*d);
    bool first = env.real;
    for (const auto& [id, choice] : env.list) {
      rows.emplace_back(env.poll_id, id, choice, first);
      first = false;
    }
    // A crowd that did not form (mixing's wait ran out with fewer than min_real votes): as many
    // decoys as the missing votes would have brought, uniform over the poll's choices, so the
    // batch is never one vote's ballots alone. Decoys all: the estimate subtracts them exactly.
    if (env.crowd_shortfall > 0 && env.choices > 0)
      for (std::size_t i = 0; i < env.crowd_shortfall * env.list.size(); ++i)
        rows.emplace_back(env.poll_id, random::to_uuid_text(random::random_id(rng)),
                          static_cast<std::uint32_t>(rng.uniform(env.choices)), false);
  }
  if (rows.empty()) return stats;
  std::shuffle(rows.begin(), rows.end(), rng);

  // An envelope counts when its ballots are stored now: one delivered twice (Kafka retries
  // can duplicate a message, a restart re-reads what mixing held back) finds its ballots
  // there already and adds nothing.
  const auto stored = pg::copy_then_query(
      tx, "ballotbox_incoming", "poll_id text, random_id text, choice integer, counts boolean", rows,
      "WITH inserted AS ("
      " INSERT INTO ballotbox.ballots (poll_id, random_id, choice)"
      " SELECT poll_id::uuid, random_id::uuid, choice FROM ballotbox_incoming"
      " ON CONFLICT DO NOTHING RETURNING poll_id, random_id)"
      " SELECT i.poll_id::text, count(DISTINCT i.random_id) FILTER (WHERE s.counts), count(DISTINCT i.random_id)"
      " FROM inserted i JOIN ballotbox_incoming s ON s.poll_id::uuid = i.poll_id AND s.random_id::uuid = i.random_id"
      " GROUP BY i.poll_id");
  for (const auto& r : stored) {
    const auto envelopes = r[1].as<std::int64_t>();
    stats.envelopes += static_cast<std::size_t>(envelopes);
    stats.rows += r[2].as<std::size_t>();
    // Every poll in the batch gets a new version of its count, +0 for covers alone: a batch
    // that left the count as it was (dead tuples keep each version) would mark itself as covers.
    tx.exec_params(
        "INSERT INTO ballotbox.envelope_counts (poll_id, envelopes) VALUES ($1::uuid, $2)"
        " ON CONFLICT (poll_id) DO UPDATE SET envelopes = ballotbox.envelope_counts.envelopes + excluded.envelopes",
        r[0].as<std::string>(), envelopes);
  }
  return stats;
}

}  // namespace splitvote::ballotbox
