#include "splitvote/pollbook/schema.hpp"

namespace splitvote::pollbook {

const std::vector<pg::migration>& migrations() {
  // No timestamps, serials or shared ids: the primary key is the envelope's random entry id,
  // so neither rows nor index order follow arrival.
  static const std::vector<pg::migration> all = {
      {1, "submissions",
       "CREATE TABLE pollbook.submissions ("
       " poll_id uuid NOT NULL,"
       " entry_id uuid NOT NULL,"
       " actor_key bytea NOT NULL CHECK (length(actor_key) = 32),"
       " PRIMARY KEY (poll_id, entry_id));"
       "CREATE INDEX submissions_by_actor ON pollbook.submissions (poll_id, actor_key);" +
           pg::consumer_offsets_ddl("pollbook")},
  };
  return all;
}

int current_version() { return migrations().back().version; }

}  // namespace splitvote::pollbook
