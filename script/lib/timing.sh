# Where a script's time went, as a table at its end (sourced, not run). Rows go to the file
# $SPLITVOTE_TIMINGS (tab-separated: step, seconds, note); timing_table prints them.

# timing_add STEP SECONDS [NOTE]
timing_add() {
  [[ -n "${SPLITVOTE_TIMINGS:-}" ]] || return 0
  printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$SPLITVOTE_TIMINGS"
}

# timing_build NAME NINJA_LOG STARTED_NS WALL: the build's wall time, then its compile and link
# steps from Ninja's log (the entries whose output was written after STARTED_NS, nanoseconds
# since the epoch: Ninja rewrites older entries when it compacts its log): the wall time while
# any step of the kind ran, and the job seconds (the sum over jobs; two cores run two at once).
timing_build() {
  local name=$1 log=$2 started_ns=$3 wall=$4
  [[ -n "${SPLITVOTE_TIMINGS:-}" ]] || return 0
  timing_add "$name: build" "$wall"
  python3 - "$log" "$started_ns" "$name" >>"$SPLITVOTE_TIMINGS" <<'PY' || true
import sys
path, started_ns, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = [l.rstrip("\n").split("\t") for l in open(path) if not l.startswith("#")]
lines = [l for l in lines if len(l) >= 4 and int(l[2]) >= started_ns]
kinds = {"compile": [], "link": []}
for start, end, _mtime, output, *_ in lines:
    if output.endswith((".cmake", ".stamp")) or "/CMakeFiles/" in output and not output.endswith(".o"):
        continue
    kinds["compile" if output.endswith(".o") else "link"].append((int(start) / 1000, int(end) / 1000))
for kind, spans in kinds.items():
    busy, last = 0.0, None
    for s, e in sorted(spans):
        if last is None or s > last:
            busy, last = busy + e - s, e
        elif e > last:
            busy, last = busy + e - last, e
    jobs = sum(e - s for s, e in spans)
    print(f"{name}: {kind}\t{busy:.0f}\t{len(spans)} steps, {jobs:.0f} job-s")
PY
}

# timing_ctest NAME CTEST_LOG WALL: the run's wall time, then each label's summed test seconds
# (CTest's "Label Time Summary"; under -j the labels overlap).
timing_ctest() {
  local name=$1 log=$2 wall=$3
  [[ -n "${SPLITVOTE_TIMINGS:-}" ]] || return 0
  timing_add "$name: ctest" "$wall" "$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1)"
  sed -n '/^Label Time Summary:/,/^$/p' "$log" | sed -E -n 's/^ *([a-z0-9-]+) *= *([0-9.]+) sec\*proc \(([0-9]+) tests?\)/\1 \2 \3/p' |
    while read -r label seconds count; do
      timing_add "$name: label $label" "${seconds%.*}" "$count tests, summed (they run side by side)"
    done
}

# timing_table: the rows so far and the total since the script started ($SECONDS).
timing_table() {
  [[ -n "${SPLITVOTE_TIMINGS:-}" && -f "$SPLITVOTE_TIMINGS" ]] || return 0
  echo
  echo "timing (seconds; wall unless the note says otherwise):"
  awk -F'\t' '{ printf "  %-34s %6s  %s\n", $1, $2, $3 }' "$SPLITVOTE_TIMINGS"
  printf '  %-34s %6s  %s\n' "total" "$SECONDS" "wall, from the start of ${0##*/}"
}
