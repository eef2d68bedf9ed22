#!/usr/bin/env python3
"""A consumer's drain rate from its log: the rows and envelopes of its batch_committed events
over the time from the first batch's start (its timestamp minus its commit time) to the last
commit. Used by script/bench's consumers-drain step.

  drain_rate.py LOG rows          prints the rows the log's batches wrote
  drain_rate.py --json OUT POLLBOOK_LOG BALLOTBOX_LOG COPY_ROWS COPY_START COPY_END
"""
import datetime
import json
import sys


def batches(path):
    out = []
    with open(path) as f:
        for line in f:
            if '"batch_committed"' not in line:
                continue
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue
            ts = datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
            out.append((ts, e["rows"], e["envelopes"], e["commit_ms"]))
    return out


def rate(path):
    b = batches(path)
    if not b:
        return {"batches": 0, "rows": 0, "envelopes": 0, "seconds": 0, "rows_per_s": 0, "envelopes_per_s": 0}
    start = b[0][0] - b[0][3] / 1000
    seconds = max(b[-1][0] - start, 1e-6)
    rows, envelopes = sum(x[1] for x in b), sum(x[2] for x in b)
    return {"batches": len(b), "rows": rows, "envelopes": envelopes, "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds), "envelopes_per_s": round(envelopes / seconds)}


def main(argv):
    if len(argv) == 3 and argv[2] == "rows":
        print(rate(argv[1])["rows"])
        return
    if argv[1] != "--json" or len(argv) != 8:
        sys.exit(__doc__)
    out, pollbook, ballotbox, copy_rows, copy_start, copy_end = argv[2:]
    copy_seconds = float(copy_end) - float(copy_start)
    result = {"label": "consumers-drain", "pollbook": rate(pollbook), "ballotbox": rate(ballotbox),
              "copy": {"rows": int(copy_rows), "seconds": round(copy_seconds, 3),
                       "rows_per_s": round(int(copy_rows) / copy_seconds) if copy_seconds > 0 else 0}}
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    b, c = result["ballotbox"], result["copy"]
    print(f"consumers-drain: ballotbox {b['rows']:,} rows in {b['seconds']} s ({b['rows_per_s']:,}/s), "
          f"pollbook {result['pollbook']['rows']:,} rows ({result['pollbook']['rows_per_s']:,}/s); "
          f"plain COPY of {c['rows']:,} rows: {c['rows_per_s']:,}/s")


if __name__ == "__main__":
    main(sys.argv)
