#include "splitvote/catalog/schema.hpp"

namespace splitvote::catalog {

const std::vector<pg::migration>& migrations() {
  static const std::vector<pg::migration> all = {
      {1, "polls",
       "CREATE TABLE catalog.polls ("
       " id uuid PRIMARY KEY,"
       " title text NOT NULL,"
       " decoy_distribution text NOT NULL,"
       " decoy_k integer NOT NULL DEFAULT 0,"
       " decoy_min integer NOT NULL DEFAULT 0,"
       " decoy_max integer NOT NULL DEFAULT 0,"
       " decoy_mean double precision NOT NULL DEFAULT 0,"
       " decoy_cap integer NOT NULL DEFAULT 0,"
       " eligible_count integer NOT NULL DEFAULT 0,"
       " admin_token_hash bytea NOT NULL,"
       " created_at timestamptz NOT NULL DEFAULT now(),"
       " closes_at timestamptz,"
       " closed_at timestamptz);"
       "CREATE TABLE catalog.poll_choices ("
       " poll_id uuid NOT NULL REFERENCES catalog.polls (id) ON DELETE CASCADE,"
       " position integer NOT NULL,"
       " label text NOT NULL,"
       " PRIMARY KEY (poll_id, position));"
       "CREATE TABLE catalog.eligible_actors ("
       " poll_id uuid NOT NULL REFERENCES catalog.polls (id) ON DELETE CASCADE,"
       " actor_key bytea NOT NULL,"
       " PRIMARY KEY (poll_id, actor_key));"},
      {2, "privacy policy and releases",
       "ALTER TABLE catalog.polls"
       " ADD COLUMN rr_p double precision NOT NULL DEFAULT 0,"
       " ADD COLUMN noise_mechanism text NOT NULL DEFAULT 'none',"
       " ADD COLUMN noise_epsilon double precision NOT NULL DEFAULT 0,"
       " ADD COLUMN noise_delta double precision NOT NULL DEFAULT 0,"
       " ADD COLUMN privacy_budget double precision NOT NULL DEFAULT 0;"
       // Each release of a poll's counts, its noise drawn once: reads reuse it.
       "CREATE TABLE catalog.releases ("
       " poll_id uuid NOT NULL REFERENCES catalog.polls (id) ON DELETE CASCADE,"
       " seq integer NOT NULL,"
       " envelopes bigint NOT NULL,"
       " epsilon_spent double precision NOT NULL,"
       " released_at timestamptz NOT NULL DEFAULT now(),"
       " PRIMARY KEY (poll_id, seq));"
       "CREATE TABLE catalog.release_counts ("
       " poll_id uuid NOT NULL,"
       " seq integer NOT NULL,"
       " choice integer NOT NULL,"
       " raw bigint NOT NULL,"
       " released bigint NOT NULL,"
       " PRIMARY KEY (poll_id, seq, choice),"
       " FOREIGN KEY (poll_id, seq) REFERENCES catalog.releases (poll_id, seq) ON DELETE CASCADE);"},
      {3, "role",
       pg::create_role_sql("splitvote_catalog") +
           "GRANT USAGE ON SCHEMA catalog TO splitvote_catalog;"
           "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA catalog TO splitvote_catalog;"},
      {4, "per-poll keys for crypto-shredding",
       "CREATE TABLE catalog.poll_keys ("
       " poll_id uuid PRIMARY KEY REFERENCES catalog.polls (id) ON DELETE CASCADE,"
       " key bytea NOT NULL CHECK (length(key) = 32));"
       "ALTER TABLE catalog.polls ADD COLUMN keys_shredded_at timestamptz;"
       "GRANT SELECT, INSERT, DELETE ON catalog.poll_keys TO splitvote_catalog;"},
      // Ingest closes polls and shreds keys (UPDATE polls, DELETE poll_keys); nothing it does
      // deletes a poll, rewrites its choices or a release, or touches the migrations' record.
      {5, "least privilege",
       "REVOKE INSERT, UPDATE, DELETE ON catalog.schema_migrations FROM splitvote_catalog;"
       "REVOKE DELETE ON catalog.polls FROM splitvote_catalog;"
       "REVOKE UPDATE, DELETE ON catalog.poll_choices, catalog.releases, catalog.release_counts FROM "
       "splitvote_catalog;"},
      // Who may vote and read (docs/security.md). Polls from before keep what they had: open
      // votes (checked against their list, if any), admin-only results, admin tokens as SHA-256.
      {6, "voter authentication",
       "ALTER TABLE catalog.polls"
       " ADD COLUMN voter_auth text NOT NULL DEFAULT 'open' CHECK (voter_auth IN ('open', 'tokens', 'jwt')),"
       " ADD COLUMN results_visibility text NOT NULL DEFAULT 'admin' CHECK (results_visibility IN ('admin', 'public')),"
       " ADD COLUMN token_scheme text NOT NULL DEFAULT 'sha256' CHECK (token_scheme IN ('sha256', 'hmac-sha256'));"
       // The keyed hash of each actor's voting token, next to the actor's key: a vote's token
       // finds the key; the actor id itself is stored nowhere.
       "ALTER TABLE catalog.eligible_actors ADD COLUMN token_hash bytea CHECK (length(token_hash) = 32);"
       "CREATE UNIQUE INDEX eligible_actors_token ON catalog.eligible_actors (poll_id, token_hash)"
       " WHERE token_hash IS NOT NULL;"},
      // A release kept the exact count per choice beside its noisy one, in the pollbook's
      // cluster: with it, that cluster alone tied the actors added between two releases to the
      // ballots they added. Now a release keeps its totals (N, n: all the estimate needs) and a
      // keyed digest of the tally (to tell whether it changed). The old table is replaced, not
      // altered: its file, with the exact counts in it, is unlinked at commit.
      {7, "releases without exact counts",
       "ALTER TABLE catalog.releases ADD COLUMN ballots bigint, ADD COLUMN tally_digest text;"
       "UPDATE catalog.releases r SET ballots = (SELECT coalesce(sum(raw), 0) FROM catalog.release_counts c"
       " WHERE c.poll_id = r.poll_id AND c.seq = r.seq);"
       "ALTER TABLE catalog.releases ALTER COLUMN ballots SET NOT NULL;"
       "CREATE TABLE catalog.released_counts ("
       " poll_id uuid NOT NULL,"
       " seq integer NOT NULL,"
       " choice integer NOT NULL,"
       " released bigint NOT NULL,"
       " PRIMARY KEY (poll_id, seq, choice),"
       " FOREIGN KEY (poll_id, seq) REFERENCES catalog.releases (poll_id, seq) ON DELETE CASCADE);"
       "INSERT INTO catalog.released_counts SELECT poll_id, seq, choice, released FROM catalog.release_counts;"
       "DROP TABLE catalog.release_counts;"
       "GRANT SELECT, INSERT ON catalog.released_counts TO splitvote_catalog;"},
      // Shredding deleted a poll's key and vacuumed, but a deleted row stays in its page until
      // the space is reused, and the catalog role could not vacuum a table it does not own (a
      // warning, nothing done): the key's bytes stayed in the table's file. Ingest now rewrites
      // the table after a shredding (LOCK, TRUNCATE, INSERT, as the scrub does): the old file,
      // with the deleted keys in it, is unlinked at commit.
      {8, "shredding rewrites the key table", "GRANT TRUNCATE ON catalog.poll_keys TO splitvote_catalog;"},
  };
  return all;
}

int current_version() { return migrations().back().version; }

}  // namespace splitvote::catalog
