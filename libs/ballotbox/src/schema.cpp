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
      {2, "roles and aggregate-only reads",
       pg::create_role_sql("splitvote_ballotbox") + pg::create_role_sql("splitvote_ballotbox_reader") +
           "GRANT USAGE ON SCHEMA ballotbox TO splitvote_ballotbox, splitvote_ballotbox_reader;"
           "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA ballotbox TO splitvote_ballotbox;"
           "GRANT SELECT ON ballotbox.schema_migrations TO splitvote_ballotbox_reader;"
           "CREATE FUNCTION ballotbox.tally(p_poll uuid) RETURNS TABLE (choice integer, ballots bigint)"
           " LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$"
           " SELECT choice, count(*) FROM ballotbox.ballots WHERE poll_id = p_poll GROUP BY choice $$;"
           "CREATE FUNCTION ballotbox.envelopes(p_poll uuid) RETURNS bigint"
           " LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$"
           " SELECT coalesce((SELECT envelopes FROM ballotbox.envelope_counts WHERE poll_id = p_poll), 0) $$;" +
           pg::offset_positions_function_sql("ballotbox") +
           "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ballotbox FROM PUBLIC;"
           "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ballotbox TO splitvote_ballotbox_reader, splitvote_ballotbox;"},
      // Stored ballots are never changed or deleted one by one: the consumer inserts (ON
      // CONFLICT DO NOTHING) and the scrub rewrites whole tables (LOCK, TRUNCATE, INSERT), so
      // it keeps SELECT, INSERT and TRUNCATE. The migrations' own record is the owner's.
      {3, "least privilege",
       "REVOKE UPDATE, DELETE ON ballotbox.ballots FROM splitvote_ballotbox;"
       "REVOKE DELETE ON ballotbox.envelope_counts, ballotbox.consumer_offsets FROM splitvote_ballotbox;"
       "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ballotbox.schema_migrations FROM splitvote_ballotbox;"
       "REVOKE TRUNCATE ON ballotbox.consumer_offsets FROM splitvote_ballotbox;"},
      // Positions sealed under the consumer's own key: both stores kept the same Kafka offsets
      // per batch in the clear, a sequence that lined their batches up (and the dead tuples of
      // each UPDATE kept every step).
      {4, "sealed positions", pg::sealed_positions_sql("ballotbox")},
  };
  return all;
}

int current_version() { return migrations().back().version; }

}  // namespace splitvote::ballotbox
