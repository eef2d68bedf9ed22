#!/usr/bin/env bash
# The bench tool itself, untimed and without thresholds: splitvote-bench --ceiling on a free
# port, then the client against it (closed loop, then open loop), and the JSON must hold what
# docs/benchmarks.md is written from.
set -euo pipefail
BENCH=$1
WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BENCH" --ceiling --port 0 --threads 2 >"$WORK/port" &
SERVER=$!
for _ in $(seq 50); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
PORT=$(awk '/^listening/ {print $2}' "$WORK/port")
[[ -n "$PORT" ]] || { echo "the ceiling server printed no port" >&2; exit 1; }

"$BENCH" --target "127.0.0.1:$PORT" --mode closed --duration 2 --warmup 0.5 --connections 4 --threads 1 \
  --label closed --json "$WORK/closed.json" --quiet
"$BENCH" --target "127.0.0.1:$PORT" --mode open --rate 500 --duration 1 --warmup 0.2 --connections 4 --threads 1 \
  --label open --json "$WORK/open.json" --quiet

python3 - "$WORK/closed.json" "$WORK/open.json" <<'PY'
import json, sys
for path in sys.argv[1:]:
    d = json.load(open(path))
    load, lat = d["load"], d["latency_ms"]
    assert load["measured"] > 0, (path, load)
    assert set(load["statuses"]) == {"202"}, (path, load["statuses"])
    assert load["statuses"]["202"] == load["measured"], (path, load)
    assert lat["count"] == load["measured"], (path, lat["count"], load["measured"])
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"], (path, lat)
    assert sum(n for _, n in lat["histogram_us"]) == lat["count"], path
    assert d["timeline"], path
    print(path.rsplit("/", 1)[-1], "ok:", load["measured"], "answers,", f"p50 {lat['p50']} ms")
open_run = json.load(open(sys.argv[2]))
assert open_run["config"]["mode"] == "open" and open_run["load"]["offered_rate"] == 500, open_run["config"]
assert open_run["latency_ms"]["basis"] == "answer - intended send time"
PY
