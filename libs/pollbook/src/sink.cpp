#include "splitvote/pollbook/sink.hpp"

#include "splitvote/envelope/actor_part.hpp"
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/pg/bulk.hpp"

#include <algorithm>
#include <tuple>

namespace splitvote::pollbook {

consumer::write_stats sink::write(pqxx::work& tx, const std::vector<std::string_view>& values,
                                  random::random_source& rng) {
  consumer::write_stats stats;
  using row = std::tuple<std::string, std::string, std::string>;  // poll, entry, actor key
  std::vector<row> rows;
  rows.reserve(values.size());
  for (std::string_view v : values) {
    try {
      const auto env = envelope::decode(v.data(), v.size());
      if (env.actor_part.empty()) continue;  // a cover envelope: ballots only
      if (!random::is_uuid_text(env.poll_id)) throw envelope::decode_error("poll id is not a uuid");
      const auto actor = envelope::decode_actor_part(envelope::readable_half(env.actor_part, env.sealed, keys_));
      if (actor.cover) continue;  // nobody voted: nothing to store
      rows.emplace_back(env.poll_id, random::to_uuid_text(actor.entry_id),
                        random::to_hex(actor.actor_key));
      ++stats.envelopes;
    } catch (const envelope::decode_error&) {
      ++stats.skipped;
    }
  }
  if (rows.empty()) return stats;
  std::shuffle(rows.begin(), rows.end(), rng);

  stats.rows = pg::copy_then_insert(
      tx, "pollbook_staging", "poll_id text, entry_id text, actor_key text", rows,
      "INSERT INTO pollbook.submissions (poll_id, entry_id, actor_key)"
      " SELECT poll_id::uuid, entry_id::uuid, decode(actor_key, 'hex') FROM pollbook_staging"
      " ON CONFLICT DO NOTHING");
  return stats;
}

}  // namespace splitvote::pollbook
