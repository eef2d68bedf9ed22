#include "splitvote/ballotbox/sink.hpp"

#include "splitvote/envelope/ballot_list.hpp"
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/pg/bulk.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace splitvote::ballotbox {

consumer::write_stats sink::write(pqxx::work& tx, const std::vector<std::string_view>& values,
                                  random::random_source& rng) {
  consumer::write_stats stats;
  using row = std::tuple<std::string, std::string, std::uint32_t>;  // poll, random id, choice
  std::vector<row> rows;
  std::map<std::string, std::int64_t> envelopes_per_poll;
  for (std::string_view v : values) {
    try {
      const auto env = envelope::decode(v.data(), v.size());
      if (!random::is_uuid_text(env.poll_id)) throw envelope::decode_error("poll id is not a uuid");
      const auto list = envelope::decode_ballot_list(envelope::readable_half(env.ballot_list, env.sealed, keys_));
      for (const auto& b : list.ballots)
        rows.emplace_back(env.poll_id, random::to_uuid_text(b.random_id), b.choice);
      if (list.cover) continue;  // decoys only: stored, but no real ballot to count
      ++envelopes_per_poll[env.poll_id];
      ++stats.envelopes;
    } catch (const envelope::decode_error&) {
      ++stats.skipped;
    }
  }
  if (rows.empty()) return stats;
  std::shuffle(rows.begin(), rows.end(), rng);

  stats.rows = pg::copy_then_insert(
      tx, "ballotbox_staging", "poll_id text, random_id text, choice integer", rows,
      "INSERT INTO ballotbox.ballots (poll_id, random_id, choice)"
      " SELECT poll_id::uuid, random_id::uuid, choice FROM ballotbox_staging"
      " ON CONFLICT DO NOTHING");
  for (const auto& [poll, n] : envelopes_per_poll)
    tx.exec_params(
        "INSERT INTO ballotbox.envelope_counts (poll_id, envelopes) VALUES ($1::uuid, $2)"
        " ON CONFLICT (poll_id) DO UPDATE SET envelopes = ballotbox.envelope_counts.envelopes + excluded.envelopes",
        poll, n);
  return stats;
}

}  // namespace splitvote::ballotbox
