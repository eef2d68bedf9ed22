#!/usr/bin/env python3
"""The shipped proxy config (deploy/compose/nginx.conf) made runnable on this host by Debian's
nginx, for e2e.replicas (tests/support/src/proxy.cpp runs this) and contract.nginx (nginx -t).

    nginx_config.py SHIPPED_CONF DIR --listen PORT --upstream HOST:PORT [--upstream HOST:PORT ...]
                    [--tls CERT KEY]

Writes DIR/nginx.conf (and DIR/temp/) and prints its path. Only the lines that cannot be the
same here are replaced, each by an exact match that must be in the shipped file: if one is not,
this fails, so the tests follow the file instead of quietly testing another config.
- `server ingest:8080 resolve;`: compose's DNS name, and `resolve` needs nginx >= 1.27.3
  (Debian 12 has 1.22): one `server HOST:PORT;` per replica instead.
- `listen 8080;` (the server that redirects plain HTTP to HTTPS): a free port on loopback.
- `listen 8443 ssl;`: the test's port on loopback. With --tls CERT KEY it stays TLS with that
  certificate (contract.nginx: `nginx -t` reads it); without, it and its `ssl_*` lines become
  plain HTTP, which the proxy tests speak (what they test is the proxying, not TLS).
- `user ...;`: the image's `nginx` user does not exist here; the test's own user instead
  (the directive only matters when nginx starts as root).
- `pid ...;` and the temp paths compiled into Debian's nginx (/var/lib/nginx/...): under DIR.
"""
import argparse
import os
import pwd
import re
import socket
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


TLS_LINES = (r"ssl_protocols .*;", r"ssl_prefer_server_ciphers .*;", r"ssl_session_cache .*;",
             r"ssl_session_tickets .*;")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def derive(shipped_text, directory, listen_port, upstreams, tls=None):
    lines = shipped_text.splitlines()
    user = pwd.getpwuid(os.geteuid()).pw_name
    temp = os.path.join(directory, "temp")
    replace_line(lines, r"user \S+;", lambda: [f"user {user};"], "the worker user")
    replace_line(lines, r"pid \S+;", lambda: [f"pid {os.path.join(directory, 'nginx.pid')};"], "the pid file")
    replace_line(lines, r"server ingest:8080 resolve;", lambda: [f"server {u};" for u in upstreams],
                 "the ingest replicas")
    redirect_port = free_port()
    replace_line(lines, r"listen 8080;", lambda: [f"listen 127.0.0.1:{redirect_port};"], "the plain-HTTP port")
    if tls:
        replace_line(lines, r"listen 8443 ssl;", lambda: [f"listen 127.0.0.1:{listen_port} ssl;"], "the HTTPS port")
        replace_line(lines, r"ssl_certificate \S+;", lambda: [f"ssl_certificate {tls[0]};"], "the certificate")
        replace_line(lines, r"ssl_certificate_key \S+;", lambda: [f"ssl_certificate_key {tls[1]};"], "its key")
    else:
        replace_line(lines, r"listen 8443 ssl;", lambda: [f"listen 127.0.0.1:{listen_port};"], "the HTTPS port")
        for pattern in (r"ssl_certificate \S+;", r"ssl_certificate_key \S+;") + TLS_LINES:
            replace_line(lines, pattern, lambda: [], "a TLS setting")
    replace_line(lines, r"http \{", lambda: ["http {"] + [
        f"  {kind}_temp_path {os.path.join(temp, kind)};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")], "the http block")
    return "\n".join(lines) + "\n"


def write(shipped_path, directory, listen_port, upstreams, tls=None):
    """Writes DIR/nginx.conf from the shipped file; returns its path."""
    with open(shipped_path, encoding="utf-8") as f:
        text = derive(f.read(), directory, listen_port, upstreams, tls)
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
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()
    try:
        print(write(args.shipped, os.path.abspath(args.dir), args.listen, args.upstream, args.tls))
    except config_mismatch as e:
        print(f"nginx_config.py: {args.shipped}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
