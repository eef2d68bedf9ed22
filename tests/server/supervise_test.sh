#!/usr/bin/env bash
# script/server supervises its services: kill -9 of a consumer and of ingest gets each
# restarted, the runner says so, the system answers again, and Ctrl-C still stops it in order.
# Usage: supervise_test.sh BUILD_DIR
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/script/lib/postgres.sh"
BUILD=$1
mkdir -p "$BUILD/test-tmp"
DATA=$(mktemp -d "$BUILD/test-tmp/server-XXXXXX")
chmod 755 "$DATA"  # PostgreSQL runs as the postgres user
OUT=$DATA/server.out
HTTP_PORT=$(free_port)
POLLBOOK_HTTP_PORT=$(free_port)
fail() { echo "supervise_test: FAIL: $*" >&2; echo "--- server output:" >&2; cat "$OUT" >&2; exit 1; }
wait_for() {  # wait_for PATTERN SECONDS
  for _ in $(seq $(($2 * 10))); do grep -q -- "$1" "$OUT" && return 0; sleep 0.1; done
  fail "no '$1' within $2 s"
}

SPLITVOTE_NO_BUILD=1 SPLITVOTE_BUILD_DIR=$BUILD SPLITVOTE_DATA_DIR=$DATA/data SPLITVOTE_HTTP_PORT=$HTTP_PORT \
  SPLITVOTE_PG_MAIN_PORT=$(free_port) SPLITVOTE_PG_BALLOT_PORT=$(free_port) \
  SPLITVOTE_POLLBOOK_HTTP_PORT=$POLLBOOK_HTTP_PORT SPLITVOTE_BALLOTBOX_HTTP_PORT=$(free_port) \
  "$ROOT/script/server" >"$OUT" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
wait_for "splitvote is running" 90

for name in pollbook ingest; do
  pid=$(pgrep -P "$SERVER" -f "splitvote-$name" | head -n 1) || fail "no $name process under the runner"
  kill -KILL "$pid"
  wait_for "server: $name exited with status 137; restarting it" 10
  wait_for "server: $name restarted" 10
  new=$(pgrep -P "$SERVER" -f "splitvote-$name" | head -n 1) || fail "$name was not restarted"
  [[ "$new" != "$pid" ]] || fail "$name still has the killed pid"
done
ready=""
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null && ready=1 && break
  sleep 0.1
done
[[ -n "$ready" ]] || fail "ingest not ready after its restart"
ready=""
for _ in $(seq 150); do
  curl -fs "http://127.0.0.1:$POLLBOOK_HTTP_PORT/readyz" >/dev/null && ready=1 && break
  sleep 0.1
done
[[ -n "$ready" ]] || fail "the restarted pollbook is not ready (its /readyz)"

kill -TERM "$SERVER"
wait "$SERVER" || true
trap - EXIT
grep -q "server: stopped" "$OUT" || fail "no orderly stop"
grep "^server:" "$OUT"
echo "supervise_test: pollbook and ingest killed with SIGKILL, each restarted and announced; ordered stop"
rm -rf "$DATA"
