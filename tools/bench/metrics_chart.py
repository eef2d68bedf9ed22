#!/usr/bin/env python3
"""Draws what a real Prometheus scraped from the embedded stack during a script/bench run as one
HTML page of line charts (the panels of deploy/compose/grafana's dashboard, the same queries),
for headless Chromium to capture as a PNG (script/bench with BENCH_METRICS_PNG).

Usage: metrics_chart.py PROMETHEUS_URL START END SCENARIOS_TSV OUT_HTML
  START, END: Unix seconds; SCENARIOS_TSV: lines "name<TAB>start<TAB>end" (Unix seconds).
Plain SVG, no plotting library (Debian's python3 here has no matplotlib)."""
import json
import math
import sys
import urllib.parse
import urllib.request
from xml.sax.saxutils import escape

VOTES = 'route="/v1/polls/{id}/votes"'
# (title, unit, [(PromQL, legend label or the label whose value names the series)])
PANELS = [
    ("Vote requests/s by status", "req/s",
     [(f"sum by (status) (rate(splitvote_http_requests_total{{{VOTES}}}[5s]))", "status")]),
    ("Vote latency (ingest, s)", "s",
     [(f"histogram_quantile({q}, sum by (le) (rate(splitvote_http_request_duration_seconds_bucket{{{VOTES}}}[5s])))", name)
      for q, name in ((0.5, "=p50"), (0.99, "=p99"))]),
    ("Kafka produce latency until ack (s)", "s",
     [(f"histogram_quantile({q}, sum by (le) (rate(splitvote_produce_seconds_bucket[5s])))", name)
      for q, name in ((0.5, "=p50"), (0.99, "=p99"))]),
    ("Envelopes stored/s by consumer", "env/s",
     [("sum by (consumer) (rate(splitvote_consumer_envelopes_total[5s]))", "consumer")]),
    ("Consumer lag (messages)", "msgs", [("sum by (consumer) (splitvote_consumer_lag_messages)", "consumer")]),
    ("Mean committed batch (envelopes)", "env",
     [("sum by (consumer) (rate(splitvote_consumer_batch_envelopes_sum[5s])) / "
       "sum by (consumer) (rate(splitvote_consumer_batch_envelopes_count[5s]))", "consumer")]),
    ("Batch commit latency p99 (s)", "s",
     [("histogram_quantile(0.99, sum by (consumer, le) (rate(splitvote_consumer_commit_seconds_bucket[5s])))", "consumer")]),
    ("Producer queue and reserved voters (ingest)", "",
     [("sum(splitvote_producer_queue_messages)", "=producer queue"), ("sum(splitvote_reserved_voters)", "=reserved voters")]),
]
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
BANDS = ["#eef3fb", "#fbf3ea"]


def query_range(base, expr, start, end, step=1):
    url = f"{base}/api/v1/query_range?" + urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(url, timeout=30) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body}")
    return body["data"]["result"]


def series_of(base, queries, start, end):
    out = []  # (legend, [(t, v)])
    for expr, legend in queries:
        for s in query_range(base, expr, start, end):
            name = legend[1:] if legend.startswith("=") else s["metric"].get(legend, "all")
            points = [(float(t), float(v)) for t, v in s["values"] if math.isfinite(float(v))]
            if points:
                out.append((name, points))
    return out


def nice_max(v):
    if v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag


def fmt(v):
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v / 1000:g}k"
    if abs(v) < 0.01:
        return f"{v * 1000:g}m"
    return f"{v:g}"


def panel_svg(title, unit, series, start, end, scenarios, w=660, h=250):
    left, right, top, bottom = 58, 12, 28, 34
    pw, ph = w - left - right, h - top - bottom
    ymax = nice_max(max([v for _, pts in series for _, v in pts] or [0]) * 1.05)

    def x(t):
        return left + (t - start) / max(end - start, 1) * pw

    def y(v):
        return top + ph - v / ymax * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="{escape(title)}">',
           f'<text x="{left}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>']
    for i, (name, s0, s1) in enumerate(scenarios):
        x0, x1 = x(max(s0, start)), x(min(s1, end))
        out.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 0):.1f}" height="{ph}" fill="{BANDS[i % 2]}"/>')
        out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{top + 12}" font-size="10" fill="#555" text-anchor="middle">{escape(name)}</text>')
    for i in range(5):
        v = ymax * i / 4
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{fmt(v)}</text>')
    span = end - start
    tick = next(t for t in (10, 15, 30, 60, 120, 300, 600, 1800) if span / t <= 8)
    for t in range(0, int(span) + 1, tick):
        out.append(f'<text x="{x(start + t):.1f}" y="{top + ph + 14}" font-size="10" text-anchor="middle">{t}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 4}" font-size="10" text-anchor="middle">seconds into the run{(" · " + unit) if unit else ""}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    legend_x = left + 8
    for i, (name, pts) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        # A gap of more than 3 steps (a service stopped between scenarios) breaks the line.
        path, last = [], None
        for t, v in pts:
            path.append(("M" if last is None or t - last > 3 else "L") + f"{x(t):.1f},{y(v):.1f}")
            last = t
        out.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
        out.append(f'<rect x="{legend_x}" y="{top + 20}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{legend_x + 14}" y="{top + 29}" font-size="11">{escape(name)}</text>')
        legend_x += 24 + 7 * len(name)
    if not series:
        out.append(f'<text x="{left + pw / 2}" y="{top + ph / 2}" font-size="12" text-anchor="middle" fill="#999">no samples</text>')
    out.append("</svg>")
    return "\n".join(out)


def main():
    base, start, end, scenarios_path, out_path = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
    scenarios = []
    with open(scenarios_path) as f:
        for line in f:
            name, s0, s1 = line.rstrip("\n").split("\t")
            scenarios.append((name, float(s0), float(s1)))
    panels = [panel_svg(title, unit, series_of(base, queries, start, end), start, end, scenarios)
              for title, unit, queries in PANELS]
    with open(out_path, "w") as f:
        f.write('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>splitvote metrics under load</title>'
                '<style>body{font-family:sans-serif;margin:16px;background:#fff;color:#222}'
                'main{display:grid;grid-template-columns:repeat(2,660px);gap:12px}</style></head><body>'
                f'<h1 style="font-size:18px;margin:0 0 10px">splitvote: what Prometheus scraped from the embedded stack '
                f'under script/bench load (1 s scrapes; {", ".join(n for n, _, _ in scenarios)})</h1><main>')
        f.write("\n".join(panels))
        f.write("</main></body></html>\n")


if __name__ == "__main__":
    main()
