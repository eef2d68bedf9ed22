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

# pg_start DIR PORT: start the cluster on 127.0.0.1:PORT and create database "splitvote".
pg_start() {
  local dir=$1 port=$2
  as_postgres "$(pg_bin)/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${SPLITVOTE_PG_FSYNC:-on} -c max_connections=${SPLITVOTE_PG_MAX_CONNECTIONS:-100}" \
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
