#include "splitvote/pollbook/sink.hpp"

#include "splitvote/envelope/actor_part.hpp"
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/pg/bulk.hpp"

#include <algorithm>
#include <tuple>

namespace splitvote::pollbook {

namespace {

/// The actor half of one envelope: the row it adds (none for a cover).
struct submission final : consumer::decoded {
  std::string entry_id;   // uuid text
  std::string actor_key;  // hex
};

}  // namespace

std::unique_ptr<consumer::decoded> sink::decode(std::string_view value) {
  auto out = std::make_unique<submission>();
  try {
    const auto env = envelope::decode(value.data(), value.size());
    if (!random::is_uuid_text(env.poll_id)) throw envelope::decode_error("poll id is not a uuid");
    if (env.actor_part.empty()) {  // ballots only: a cover envelope of the poll
      out->poll_id = env.poll_id;
      return out;
    }
    const auto actor = envelope::decode_actor_part(envelope::readable_half(env.actor_part, env.sealed, keys_));
    out->poll_id = env.poll_id;
    out->real = !actor.cover;  // a cover: nobody voted, nothing to store
    if (out->real) {
      out->entry_id = random::to_uuid_text(actor.entry_id);
      out->actor_key = random::to_hex(actor.actor_key);
    }
  } catch (const envelope::decode_error&) {
    out->poll_id.clear();
    out->real = false;
  }
  return out;
}

consumer::write_stats sink::write(pqxx::work& tx, const std::vector<const consumer::decoded*>& batch,
                                  random::random_source& rng) {
  consumer::write_stats stats;
  using row = std::tuple<std::string, std::string, std::string>;  // poll, entry, actor key
  std::vector<row> rows;
  rows.reserve(batch.size());
  for (const auto* d : batch) {
    if (!d->real) continue;
    const auto& s = static_cast<const submission&>(*d);
    rows.emplace_back(s.poll_id, s.entry_id, s.actor_key);
    ++stats.envelopes;
  }
  if (rows.empty()) return stats;
  std::shuffle(rows.begin(), rows.end(), rng);

  stats.rows =
      pg::copy_then_insert(tx, "pollbook_staging", "poll_id text, entry_id text, actor_key text", rows,
                           "INSERT INTO pollbook.submissions (poll_id, entry_id, actor_key)"
                           " SELECT poll_id::uuid, entry_id::uuid, decode(actor_key, 'hex') FROM pollbook_staging"
                           " ON CONFLICT DO NOTHING");
  return stats;
}

}  // namespace splitvote::pollbook
