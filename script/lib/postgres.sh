# Private PostgreSQL clusters for the embedded default and the tests (sourced, not run).
# The server refuses to run as root, so as root every command runs as the postgres user.

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  echo "${dir:-/usr/lib/postgresql/15/bin}"
}

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_init DIR: a new cluster in DIR unless one is there already.
pg_init() {
  local dir=$1
  [[ -f "$dir/PG_VERSION" ]] && return 0
  mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir" && chmod 700 "$dir"
  as_postgres "$(pg_bin)/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 || { cat "$dir.initdb.log" >&2; return 1; }
}

# WAL settings of both clusters (the catalog + pollbook one and the ballotbox one). The WAL
# holds every row in the order it was written, and each commit record its commit time: it is
# the arrival order that mixing and the scrub hide. The stores need it for crash recovery
# only: what is not stored yet is still in Kafka, and each batch stores its Kafka positions in
# its own transaction, so no archive, standby or point-in-time recovery is needed. Keep as
# little as crash recovery allows. docs/privacy.md ("What WAL and backups keep") explains them;
# compose.yaml (x-postgres) repeats this list: change both. Checked against PostgreSQL 15.
PG_WAL_SETTINGS=(
  # Only what crash recovery needs: no standby or archive could replay this WAL. A table
  # made or truncated in the same transaction (the scrub: TRUNCATE, then INSERT) is not
  # logged row by row; at commit its new pages go to WAL whole (under wal_skip_threshold,
  # 2 MB) or the file is synced.
  wal_level=minimal
  max_wal_senders=0        # required by wal_level=minimal
  max_replication_slots=0  # no slot may hold WAL back (none is possible with minimal anyway)
  archive_mode=off         # no WAL archive, hence no point-in-time recovery
  wal_keep_size=0          # no WAL kept for standbys
  # A segment is removed at the end of the first checkpoint that starts after it was left:
  # a checkpoint at least every minute (the minimum is 30 s; 60 s halves the flushes and
  # full-page images for the same order of magnitude of history)...
  checkpoint_timeout=60s
  # ...and a new segment at least every minute the cluster is written to. Removal goes by
  # whole 16 MB segments, and a quiet poll fills one in hours: without a switch the current
  # segment would keep hours of batches. Costs a new zero-filled segment (16 MB written) per
  # busy minute; no switch while nothing is written. Works without archiving. Measured: a
  # batch left pg_wal 56 s after it was written. But a cluster that falls idle keeps its last
  # segment until the next write (PostgreSQL skips checkpoints while idle): at the latest the
  # consumer's next scrub (hourly), or for as long as the cluster is stopped.
  archive_timeout=60s
  # Under load a checkpoint also starts after 128 MB of WAL (max_wal_size / (1 +
  # checkpoint_completion_target 0.9)): it bounds pg_wal's size (1 GB by default). A ballot
  # row costs about 215 bytes of WAL, so at the benchmark's 38,000 rows/s that is a
  # checkpoint every ~16 s; 64 MB would make it every ~4 s, for history that the minute
  # above already bounds.
  max_wal_size=256MB
  min_wal_size=32MB        # the least allowed (two segments); unused while wal_recycle=off
  wal_recycle=off          # a finished segment is deleted, not renamed and kept for reuse
  wal_init_zero=on         # a new segment is written with zeros before use (the default)
  track_commit_timestamp=off  # no pg_commit_ts: commit time per transaction id, kept for good
  # Kept on (the default): the first change to a page after a checkpoint copies the whole
  # page into WAL (other rows of that page too, for as long as the segment lives). Off, a
  # crash in the middle of a page write can leave a torn page that nothing can repair, and
  # there is deliberately no backup or archive to repair it from.
  full_page_writes=on
)

# pg_wal_options: PG_WAL_SETTINGS as postgres command-line options (-c name=value ...).
pg_wal_options() {
  local setting
  for setting in "${PG_WAL_SETTINGS[@]}"; do printf -- '-c %s ' "$setting"; done
}

# pg_start DIR PORT: start the cluster on 127.0.0.1:PORT and create database "splitvote".
pg_start() {
  local dir=$1 port=$2
  as_postgres "$(pg_bin)/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${SPLITVOTE_PG_FSYNC:-on} -c max_connections=${SPLITVOTE_PG_MAX_CONNECTIONS:-100} $(pg_wal_options)" \
    start >/dev/null || { tail -n 20 "$dir/server.log" >&2; return 1; }
  as_postgres psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'splitvote'" | grep -q 1 ||
    as_postgres psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE splitvote" >/dev/null
}

# pg_stop DIR: fast shutdown (rolls back open transactions, keeps committed data).
pg_stop() {
  local dir=$1
  [[ -f "$dir/postmaster.pid" ]] || return 0
  as_postgres "$(pg_bin)/pg_ctl" -D "$dir" -m fast -w -t 30 stop >/dev/null || true
}

# free_port: a TCP port nobody listens on right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
