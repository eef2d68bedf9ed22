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
      {2, "roles and aggregate-only reads",
       // splitvote_pollbook: the consumer, its own schema only. splitvote_pollbook_reader:
       // ingest, which may only call the aggregate functions below, never read rows.
       pg::create_role_sql("splitvote_pollbook") + pg::create_role_sql("splitvote_pollbook_reader") +
           "GRANT USAGE ON SCHEMA pollbook TO splitvote_pollbook, splitvote_pollbook_reader;"
           "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA pollbook TO splitvote_pollbook;"
           "GRANT SELECT ON pollbook.schema_migrations TO splitvote_pollbook_reader;"
           "CREATE FUNCTION pollbook.participation(p_poll uuid, OUT submissions bigint, OUT unique_actors bigint)"
           " LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$"
           " SELECT count(*), count(DISTINCT actor_key) FROM pollbook.submissions WHERE poll_id = p_poll $$;"
           "CREATE FUNCTION pollbook.has_submitted(p_poll uuid, p_actor_key bytea) RETURNS boolean"
           " LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$"
           " SELECT EXISTS (SELECT 1 FROM pollbook.submissions WHERE poll_id = p_poll AND actor_key = p_actor_key) "
           "$$;" +
           pg::offset_positions_function_sql("pollbook") +
           "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pollbook FROM PUBLIC;"
           "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pollbook TO splitvote_pollbook_reader, splitvote_pollbook;"},
      // Submissions are never changed or deleted one by one: the consumer inserts and the
      // scrub rewrites the whole table (LOCK, TRUNCATE, INSERT). The migrations' own record
      // is the owner's.
      {3, "least privilege",
       "REVOKE UPDATE, DELETE ON pollbook.submissions FROM splitvote_pollbook;"
       "REVOKE DELETE, TRUNCATE ON pollbook.consumer_offsets FROM splitvote_pollbook;"
       "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON pollbook.schema_migrations FROM splitvote_pollbook;"},
      // Positions sealed under the consumer's own key: both stores kept the same Kafka offsets
      // per batch in the clear, a sequence that lined their batches up (and the dead tuples of
      // each UPDATE kept every step).
      {4, "sealed positions", pg::sealed_positions_sql("pollbook")},
  };
  return all;
}

int current_version() { return migrations().back().version; }

}  // namespace splitvote::pollbook
