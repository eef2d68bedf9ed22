#!/usr/bin/env bash
# CTest fixture: start|stop two private PostgreSQL clusters for the tests under DIR.
# "start" writes DIR/env with SPLITVOTE_TEST_PG_MAIN and SPLITVOTE_TEST_PG_BALLOT (server URLs).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/script/lib/postgres.sh"
action=$1 dir=$2
export SPLITVOTE_PG_FSYNC=off  # test data is thrown away; durability is not under test here
# Every test's stack connects to these two clusters, and ctest -j runs several stacks at once
# (each holds about 15 connections to the main cluster: pools of ingest, consumers, the test).
export SPLITVOTE_PG_MAX_CONNECTIONS=400
case "$action" in
  start)
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chmod 755 "$dir"
    for name in main ballot; do
      pg_stop "$dir/$name" 2>/dev/null || true
      pg_init "$dir/$name"
    done
    main_port=$(free_port); pg_start "$dir/main" "$main_port"
    ballot_port=$(free_port); pg_start "$dir/ballot" "$ballot_port"
    cat >"$dir/env" <<ENV
SPLITVOTE_TEST_PG_MAIN=postgresql://postgres@127.0.0.1:$main_port
SPLITVOTE_TEST_PG_BALLOT=postgresql://postgres@127.0.0.1:$ballot_port
ENV
    echo "postgres fixture: main on $main_port, ballotbox on $ballot_port"
    ;;
  stop)
    pg_stop "$dir/main"
    pg_stop "$dir/ballot"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
