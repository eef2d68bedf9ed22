#include "splitvote/ballotbox/schema.hpp"

namespace splitvote::ballotbox {

const std::vector<pg::migration>& migrations() {
  // Real and decoy ballots look alike; the key is the ballot's random id. The per-poll
  // envelope count is what lets the results subtract the decoys exactly.
  static const std::vector<pg::migration> all = {
      {1, "ballots",
       "CREATE TABLE ballotbox.ballots ("
       " poll_id uuid NOT NULL,"
       " random_id uuid NOT NULL,"
       " choice integer NOT NULL CHECK (choice >= 0),"
       " PRIMARY KEY (poll_id, random_id));"
       "CREATE TABLE ballotbox.envelope_counts ("
       " poll_id uuid PRIMARY KEY,"
       " envelopes bigint NOT NULL);" +
           pg::consumer_offsets_ddl("ballotbox")},
  };
  return all;
}

int current_version() { return migrations().back().version; }

}  // namespace splitvote::ballotbox
