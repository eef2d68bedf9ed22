#!/usr/bin/env python3
"""The shipped proxy config (deploy/compose/nginx.conf) made runnable on this host by Debian's
nginx, for e2e.replicas (tests/support/src/proxy.cpp runs this) and contract.nginx (nginx -t).

    nginx_config.py SHIPPED_CONF DIR --listen PORT --upstream HOST:PORT [--upstream HOST:PORT ...]

Writes DIR/nginx.conf (and DIR/temp/) and prints its path. Only the lines that cannot be the
same here are replaced, each by an exact match that must be in the shipped file: if one is not,
this fails, so the tests follow the file instead of quietly testing another config.
- `server ingest:8080 resolve;`: compose's DNS name, and `resolve` needs nginx >= 1.27.3
  (Debian 12 has 1.22): one `server HOST:PORT;` per replica instead.
- `listen 8080;`: a free port on loopback.
- `user ...;`: the image's `nginx` user does not exist here; the test's own user instead
  (the directive only matters when nginx starts as root).
- `pid ...;` and the temp paths compiled into Debian's nginx (/var/lib/nginx/...): under DIR.
"""
import argparse
import os
import pwd
import re
import sys


class config_mismatch(Exception):
    pass


def replace_line(lines, pattern, make, what):
    """Replaces the one line matching `pattern` (a regex on the stripped line) by make(indent)."""
    hits = [i for i, line in enumerate(lines) if re.fullmatch(pattern, line.strip())]
    if len(hits) != 1:
        raise config_mismatch(f"expected exactly one line matching {pattern!r} ({what}), found {len(hits)}")
    i = hits[0]
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    lines[i : i + 1] = [indent + new for new in make()]


def derive(shipped_text, directory, listen_port, upstreams):
    lines = shipped_text.splitlines()
    user = pwd.getpwuid(os.geteuid()).pw_name
    temp = os.path.join(directory, "temp")
    replace_line(lines, r"user \S+;", lambda: [f"user {user};"], "the worker user")
    replace_line(lines, r"pid \S+;", lambda: [f"pid {os.path.join(directory, 'nginx.pid')};"], "the pid file")
    replace_line(lines, r"server ingest:8080 resolve;", lambda: [f"server {u};" for u in upstreams],
                 "the ingest replicas")
    replace_line(lines, r"listen 8080;", lambda: [f"listen 127.0.0.1:{listen_port};"], "the proxy's port")
    replace_line(lines, r"http \{", lambda: ["http {"] + [
        f"  {kind}_temp_path {os.path.join(temp, kind)};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")], "the http block")
    return "\n".join(lines) + "\n"


def write(shipped_path, directory, listen_port, upstreams):
    """Writes DIR/nginx.conf from the shipped file; returns its path."""
    with open(shipped_path, encoding="utf-8") as f:
        text = derive(f.read(), directory, listen_port, upstreams)
    os.makedirs(os.path.join(directory, "temp"), exist_ok=True)
    path = os.path.join(directory, "nginx.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shipped")
    parser.add_argument("dir")
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", action="append", required=True)
    args = parser.parse_args()
    try:
        print(write(args.shipped, os.path.abspath(args.dir), args.listen, args.upstream))
    except config_mismatch as e:
        print(f"nginx_config.py: {args.shipped}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
