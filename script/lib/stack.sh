# The embedded default's bring-up, shared by script/server and script/bench (sourced, not run):
# two private PostgreSQL clusters, the secrets and seal keys, the dev broker, the migrations, and
# the environment each service starts with. Needs ROOT, BIN (the build's services/) and
# script/lib/postgres.sh sourced.

# stack_databases DIR MAIN_PORT BALLOT_PORT: catalog + pollbook in DIR/pg-main, the ballotbox
# in DIR/pg-ballotbox (created when missing, then started); sets MAIN_DSN and BALLOT_DSN.
stack_databases() {
  local dir=$1 main_port=$2 ballot_port=$3
  pg_init "$dir/pg-main"
  pg_init "$dir/pg-ballotbox"
  pg_start "$dir/pg-main" "$main_port"
  pg_start "$dir/pg-ballotbox" "$ballot_port"
  MAIN_DSN="postgresql://postgres@127.0.0.1:$main_port/splitvote"
  BALLOT_DSN="postgresql://postgres@127.0.0.1:$ballot_port/splitvote"
}

stack_stop_databases() {
  pg_stop "$1/pg-main"
  pg_stop "$1/pg-ballotbox"
}

# dsn_as DSN ROLE: the DSN with another role (the migrations create one per service).
dsn_as() { echo "${1/postgres@/$2@}"; }

# stack_secrets DIR: the actor secret (DIR/actor_secret) and each consumer's seal key pair
# (DIR/keys/{pollbook,ballotbox}.{key,pub}), made once and kept.
stack_secrets() {
  local dir=$1 who
  [[ -f "$dir/actor_secret" ]] || (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/actor_secret")
  mkdir -p "$dir/keys"
  for who in pollbook ballotbox; do
    [[ -f "$dir/keys/$who.key" ]] || "$BIN/keygen/splitvote-keygen" "$dir/keys/$who" >/dev/null
  done
}

# stack_broker DIR LOG DEV_BROKER_ARGS...: starts the dev broker in its own session, waits for
# its bootstrap address (DIR/bootstrap), exports SPLITVOTE_KAFKA__BOOTSTRAP_SERVERS and sets
# BROKER_PID and BOOTSTRAP.
stack_broker() {
  local dir=$1 log=$2; shift 2
  rm -f "$dir/bootstrap"
  setsid "$BIN/dev-broker/splitvote-dev-broker" --brokers 3 --topic splitvote.votes "$@" \
    --bootstrap-file "$dir/bootstrap" >"$log" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 100); do [[ -s "$dir/bootstrap" ]] && break; sleep 0.1; done
  BOOTSTRAP=$(cat "$dir/bootstrap")
  export SPLITVOTE_KAFKA__BOOTSTRAP_SERVERS=$BOOTSTRAP
}

# stack_migrate: every schema to this build's version (as the owner role).
stack_migrate() {
  SPLITVOTE_CATALOG__DSN=$MAIN_DSN SPLITVOTE_POLLBOOK__DSN=$MAIN_DSN SPLITVOTE_BALLOTBOX__DSN=$BALLOT_DSN \
    "$BIN/migrate/splitvote-migrate"
}

# stack_ingest_env DIR: sets INGEST_ENV, ingest's environment (its roles, secret, seal keys).
stack_ingest_env() {
  local dir=$1
  INGEST_ENV=(SPLITVOTE_CATALOG__DSN="$(dsn_as "$MAIN_DSN" splitvote_catalog)"
              SPLITVOTE_POLLBOOK__DSN="$(dsn_as "$MAIN_DSN" splitvote_pollbook_reader)"
              SPLITVOTE_BALLOTBOX__DSN="$(dsn_as "$BALLOT_DSN" splitvote_ballotbox_reader)"
              SPLITVOTE_PRIVACY__ACTOR_SECRET_FILE="$dir/actor_secret"
              SPLITVOTE_SEAL__POLLBOOK_PUBLIC_KEY="$dir/keys/pollbook.pub"
              SPLITVOTE_SEAL__BALLOTBOX_PUBLIC_KEY="$dir/keys/ballotbox.pub")
}

# stack_consumer_env DIR WHO (pollbook or ballotbox): sets CONSUMER_ENV, its role and secret key.
stack_consumer_env() {
  local dir=$1 who=$2 dsn=$MAIN_DSN
  [[ $who == ballotbox ]] && dsn=$BALLOT_DSN
  CONSUMER_ENV=(SPLITVOTE_DB__DSN="$(dsn_as "$dsn" "splitvote_$who")" SPLITVOTE_SEAL__SECRET_KEY="$dir/keys/$who.key")
}
