#!/usr/bin/env python3
"""The project's own targets and who links whom, from CMake's --graphviz output, as a Mermaid
flowchart (docs/architecture.md, "Library layout"). Tests, benchmarks and fuzz targets are left
out; so are external packages (the table in the document names them).

    link_graph.py DOT                  print the flowchart
    link_graph.py DOT --check DOC      exit 1 if DOC's block between the link-graph markers differs

DOT is what `cmake -S . -B DIR --graphviz=DOT` writes (contract.link-graph configures a scratch
tree for it).
"""
import re
import sys

BEGIN, END = "<!-- link-graph:begin -->", "<!-- link-graph:end -->"
NODE = re.compile(r'^\s*"(node\d+)" \[ label = "([^"\\]*)')
EDGE = re.compile(r'^\s*"(node\d+)" -> "(node\d+)"(.*)$')
# Test and tool targets: not part of what ships.
LEFT_OUT = re.compile(r"^(splitvote-(unit|integration|e2e|privacy|fault|security|bench)-tests|"
                      r"splitvote_(catch_main|test_support|bench)|splitvote-bench|fuzz-.*)$")


def short(label):
    """splitvote_http_plain -> http_plain; splitvote-ingest -> splitvote-ingest (a binary)."""
    return label[len("splitvote_"):] if label.startswith("splitvote_") else label


def graph(dot_text):
    labels, edges = {}, set()
    for line in dot_text.splitlines():
        if m := NODE.match(line):
            labels[m.group(1)] = m.group(2).split("\\n")[0]
        elif m := EDGE.match(line):
            edges.add((m.group(1), m.group(2), "dotted" in m.group(3)))
    ours = {n: l for n, l in labels.items() if l.startswith(("splitvote_", "splitvote-")) and not LEFT_OUT.match(l)}
    links = sorted({(short(ours[a]), short(ours[b]), private) for a, b, private in edges if a in ours and b in ours})
    return sorted(short(l) for l in ours.values()), links


def mermaid(nodes, links):
    ident = lambda name: re.sub(r"[^A-Za-z0-9]", "_", name)
    lines = ["```mermaid", "flowchart LR"]
    for n in nodes:
        shape = f'{ident(n)}(["{n}"])' if n.startswith("splitvote-") else f'{ident(n)}["{n}"]'
        lines.append(f"  {shape}")
    for a, b, private in links:
        lines.append(f"  {ident(a)} {'-.->' if private else '-->'} {ident(b)}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--check"):
        sys.exit(__doc__)
    with open(argv[1]) as f:
        chart = mermaid(*graph(f.read()))
    if len(argv) == 2:
        sys.stdout.write(chart)
        return 0
    with open(argv[3]) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        print(f"link-graph: {argv[3]} has no {BEGIN} ... {END} block")
        return 1
    current = doc.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    if current != chart:
        print(f"link-graph: the picture in {argv[3]} is not the build's; replace the block with:\n{chart}")
        return 1
    print(f"link-graph: {argv[3]} shows the build's {chart.count('-->') + chart.count('-.->')} links")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
