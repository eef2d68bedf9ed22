#!/usr/bin/env python3
"""A consumer's drain rate: the rows and envelopes it wrote (from its /metrics, read before it
stopped) over the time from its first to its last batch_committed log line. The log lines
carry no counts (a per-batch size in the log would be a record of the batches a thief could
line up across the two stores). Used by script/bench's consumers-drain step.

  drain_rate.py METRICS rows      prints the rows the consumer wrote
  drain_rate.py --json OUT POLLBOOK_LOG POLLBOOK_METRICS BALLOTBOX_LOG BALLOTBOX_METRICS COPY_ROWS COPY_START COPY_END
"""
import datetime
import json
import sys


def batch_times(path):
    out = []
    with open(path) as f:
        for line in f:
            if '"batch_committed"' not in line:
                continue
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue
            out.append(datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp())
    return out


def counter(metrics_path, name):
    """The sum of a counter's samples in a Prometheus text exposition."""
    total = 0.0
    with open(metrics_path) as f:
        for line in f:
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
    return int(total)


def rate(log, metrics):
    times = batch_times(log)
    rows = counter(metrics, "splitvote_consumer_rows_total")
    envelopes = counter(metrics, "splitvote_consumer_envelopes_total")
    if len(times) < 2:
        return {"batches": len(times), "rows": rows, "envelopes": envelopes, "seconds": 0, "rows_per_s": 0, "envelopes_per_s": 0}
    seconds = max(times[-1] - times[0], 1e-6)
    return {"batches": len(times), "rows": rows, "envelopes": envelopes, "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds), "envelopes_per_s": round(envelopes / seconds)}


def main(argv):
    if len(argv) == 3 and argv[2] == "rows":
        print(counter(argv[1], "splitvote_consumer_rows_total"))
        return
    if len(argv) != 10 or argv[1] != "--json":
        sys.exit(__doc__)
    out, pollbook_log, pollbook_metrics, ballotbox_log, ballotbox_metrics, copy_rows, copy_start, copy_end = argv[2:]
    copy_seconds = float(copy_end) - float(copy_start)
    result = {"label": "consumers-drain", "pollbook": rate(pollbook_log, pollbook_metrics),
              "ballotbox": rate(ballotbox_log, ballotbox_metrics),
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
