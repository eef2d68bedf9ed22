#!/usr/bin/env python3
"""Draws docs/bench/chart.svg from splitvote-bench results: latency percentiles per scenario
(log scale) and throughput bars (achieved and end-to-end stored votes/s). Plain SVG, no
plotting library (Debian's python3 here has no matplotlib)."""
import math
import sys
from xml.sax.saxutils import escape

PERCENTILES = [("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9"), ("max", "max")]
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#637939"]


def _text(x, y, s, size=11, anchor="start", extra=""):
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" {extra}>{escape(str(s))}</text>'


def latency_panel(results, x0, y0, w, h):
    out = [_text(x0 + w / 2, y0 - 12, "Latency percentiles (ms, log scale)", 13, "middle", 'font-weight="bold"')]
    values = [r["latency_ms"][k] for r in results for k, _ in PERCENTILES if r["latency_ms"]["count"]]
    lo = 10 ** math.floor(math.log10(max(min([v for v in values if v > 0] or [0.01]), 0.001)))
    hi = 10 ** math.ceil(math.log10(max(values or [1])))
    hi = max(hi, lo * 10)

    def y(v):
        v = max(v, lo)
        return y0 + h - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * h

    out.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
    decade = lo
    while decade <= hi * 1.0001:
        out.append(f'<line x1="{x0}" x2="{x0 + w}" y1="{y(decade):.1f}" y2="{y(decade):.1f}" stroke="#ddd"/>')
        out.append(_text(x0 - 6, y(decade) + 4, f"{decade:g}", 10, "end"))
        decade *= 10
    step = w / (len(PERCENTILES) - 1)
    for i, (_, name) in enumerate(PERCENTILES):
        out.append(_text(x0 + i * step, y0 + h + 16, name, 10, "middle"))
    for n, r in enumerate(results):
        if not r["latency_ms"]["count"]:
            continue
        colour = COLOURS[n % len(COLOURS)]
        points = " ".join(f"{x0 + i * step:.1f},{y(r['latency_ms'][k]):.1f}" for i, (k, _) in enumerate(PERCENTILES))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out.append(_text(x0 + w + 10, y0 + 12 + n * 15, r["label"], 10, "start", f'fill="{colour}"'))
    return out


def throughput_panel(results, x0, y0, w, h):
    out = [_text(x0 + w / 2, y0 - 12, "Throughput (votes/s): answered 202 and end-to-end stored", 13, "middle",
                 'font-weight="bold"')]
    top = max([r["load"]["accepted_rate"] for r in results] + [1]) * 1.1
    out.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
    for i in range(5):
        v = top * i / 4
        yy = y0 + h - h * i / 4
        out.append(f'<line x1="{x0}" x2="{x0 + w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eee"/>')
        out.append(_text(x0 - 6, yy + 4, f"{v:,.0f}", 10, "end"))
    slot = w / max(len(results), 1)
    bar = slot * 0.35
    for n, r in enumerate(results):
        cx = x0 + slot * n + slot / 2
        accepted = r["load"]["accepted_rate"]
        stored = r.get("drain", {}).get("end_to_end_votes_per_s", 0) or 0
        for value, dx, colour in ((accepted, -bar, "#1f77b4"), (stored, 0, "#2ca02c")):
            bh = h * value / top
            out.append(f'<rect x="{cx + dx:.1f}" y="{y0 + h - bh:.1f}" width="{bar:.1f}" height="{bh:.1f}" fill="{colour}"/>')
        out.append(_text(cx, y0 + h + 12, r["label"], 9, "end", f'transform="rotate(-35 {cx:.1f} {y0 + h + 12:.1f})"'))
    out.append(f'<rect x="{x0 + w - 190}" y="{y0 + 8}" width="10" height="10" fill="#1f77b4"/>')
    out.append(_text(x0 + w - 175, y0 + 17, "202 answers/s (measured window)", 10))
    out.append(f'<rect x="{x0 + w - 190}" y="{y0 + 24}" width="10" height="10" fill="#2ca02c"/>')
    out.append(_text(x0 + w - 175, y0 + 33, "stored end to end/s (incl. drain)", 10))
    return out


def render(results, title):
    width, height = 1100, 460
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             _text(width / 2, 20, title, 14, "middle", 'font-weight="bold"')]
    parts += latency_panel(results, 60, 60, 300, 300)
    parts += throughput_panel(results, 600, 60, 480, 300)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    import json
    rs = [json.load(open(p)) for p in sys.argv[2:]]
    open(sys.argv[1], "w").write(render(rs, "splitvote-bench"))
