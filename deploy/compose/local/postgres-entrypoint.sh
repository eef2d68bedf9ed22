#!/bin/bash
# The official postgres image's start, for deploy/compose/local/postgres.Dockerfile: as root,
# own the data and socket directories, then run as postgres; on an empty data directory,
# initdb with POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE's content) for the superuser, scram-sha-256 for TCP, listen on every
# address, and create POSTGRES_DB through a server that listens on the Unix socket only.
set -euo pipefail
if [[ ${1:-} != postgres ]]; then exec "$@"; fi
if [[ $(id -u) == 0 ]]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [[ ! -s $PGDATA/PG_VERSION ]]; then
  # POSTGRES_PASSWORD_FILE, as in the official image: the password from a file (a Compose secret).
  if [[ -n ${POSTGRES_PASSWORD_FILE:-} ]]; then
    [[ -z ${POSTGRES_PASSWORD:-} ]] || { echo "postgres-entrypoint: POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are both set" >&2; exit 1; }
    POSTGRES_PASSWORD=$(<"$POSTGRES_PASSWORD_FILE")
  fi
  : "${POSTGRES_PASSWORD:?neither POSTGRES_PASSWORD nor POSTGRES_PASSWORD_FILE is set}"
  initdb --username=postgres --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  if [[ -n ${POSTGRES_DB:-} && $POSTGRES_DB != postgres ]]; then
    psql -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres -v db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "postgres-entrypoint: initialised $PGDATA"
fi
exec "$@"
