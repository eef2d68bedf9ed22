#!/usr/bin/env python3
"""compose.yaml run for real with podman-compose (script/compose-local), driven from outside.

Usage: compose_test.py REPO BUILD_DIR

Brings the stack up as script/compose-local does (the splitvote image from BUILD_DIR's Release
binaries, the local images from Debian's packages, deploy/compose/local.yaml, and
tests/compose/fast-mixing.yaml), under its own project name, then through nginx only
(HTTPS on 127.0.0.1:8443 with the certificate tls-cert made, verified; 8080 redirects):
  1. every container that has a healthcheck passes it (`podman healthcheck run`), the services
     run as uid 10001, no container's environment holds a secret (each secret is a file of
     script/compose-secrets, mounted at /run/secrets), and keygen left each secret key 0600 and each public key 0644, owned by
     10001, in their volumes; tls-cert's key is 0600 and its certificate names 127.0.0.1; plain
     HTTP is redirected to HTTPS (308), and HTTPS answers carry Strict-Transport-Security;
  2. a poll with exact results (no decoys, no randomized response, no noise); votes from a
     keep-alive client and from clients that open a connection per vote; the results count each
     vote exactly once, for the right choice, across ingest's two replicas;
  3. kill -9 of the pollbook container while votes go on: compose's restart policy brings it
     back and the results count every accepted vote;
  4. `down` and `up` again (volumes kept): the poll and its results are still there, the keys
     and the certificate are the same files, and a vote by an actor who has voted is refused (409).
Then `down -v`. Exits 0 when all held, 1 with what did not; 77 (SKIP) without podman and no
way to install it (script/image installs it with apt-get).
"""
import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time

PROJECT = "splitvote-compose-test"
HOST, PORT, PLAIN_PORT = "127.0.0.1", 8443, 8080
TLS = ssl.create_default_context()  # trusts the proxy's certificate once it is read (main)
EXACT = {"title": "Lunch", "choices": ["pizza", "sushi", "salad"],
         "privacy": {"decoys": {"distribution": "none"}, "randomized_response": {"p": 0},
                     "release_noise": {"mechanism": "none"}}}
failures = []


def check(ok, what):
    print(("ok: " if ok else "FAILED: ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def run(*args, check_status=True, **kw):
    proc = subprocess.run(list(args), capture_output=True, text=True, **kw)
    if check_status and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {proc.returncode}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc


def compose_local(repo, *args, env):
    started = time.monotonic()
    proc = subprocess.run([os.path.join(repo, "script", "compose-local"), *args], env=env,
                          capture_output=True, text=True)
    print(f"compose-local {' '.join(args)}: exit {proc.returncode} in {time.monotonic() - started:.0f} s", flush=True)
    if proc.returncode != 0:
        raise RuntimeError(f"compose-local {' '.join(args)} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")


def container(service, n=1):
    return f"{PROJECT}_{service}_{n}"


def request(method, path, body=None, token=None, conn=None):
    """One request; on `conn` (keep-alive) or on a connection of its own, closed after it."""
    own = conn is None
    c = conn or http.client.HTTPSConnection(HOST, PORT, timeout=30, context=TLS)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if own:
        headers["Connection"] = "close"
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = c.getresponse()
    data = r.read()
    if own:
        c.close()
    return r.status, (json.loads(data) if data else None)


def vote(poll_id, actor, choice, conn=None):
    return request("POST", f"/v1/polls/{poll_id}/votes", {"actor_id": actor, "choice": choice}, conn=conn)[0]


def cast(poll_id, prefix, count, keep_alive):
    """`count` votes of new actors, choices in turn; returns {choice: accepted}."""
    conn = http.client.HTTPSConnection(HOST, PORT, timeout=30, context=TLS) if keep_alive else None
    accepted = {}
    for i in range(count):
        choice = EXACT["choices"][i % 3]
        status = vote(poll_id, f"{prefix}-{i}", choice, conn)
        if status == 202:
            accepted[choice] = accepted.get(choice, 0) + 1
        else:
            check(False, f"vote {prefix}-{i} answered {status}, not 202")
    if conn:
        conn.close()
    return accepted


def add(total, more):
    for k, v in more.items():
        total[k] = total.get(k, 0) + v


def results_reach(poll, expected, timeout=90):
    """Polls the results until they count `expected` exactly; returns the last results."""
    deadline = time.monotonic() + timeout
    want = sum(expected.values())
    while True:
        status, res = request("GET", f"/v1/polls/{poll['id']}/results", token=poll["admin_token"])
        if status == 200:
            counts = {c["choice"]: c["released_count"] for c in res["choices"]}
            part = res["participation"]
            if part["submissions"] == want and all(counts.get(k, 0) == v for k, v in expected.items()):
                return res
        if time.monotonic() > deadline:
            return res if status == 200 else {"status": status, "body": res}
        time.sleep(1)


def key_files(volume):
    mount = run("podman", "volume", "inspect", volume, "--format", "{{.Mountpoint}}").stdout.strip()
    out = {}
    for name in sorted(os.listdir(mount)):
        path = os.path.join(mount, name)
        st = os.stat(path)
        with open(path, "rb") as f:
            out[name] = (oct(st.st_mode & 0o777), st.st_uid, hashlib.sha256(f.read()).hexdigest())
    return out


def check_secrets(repo):
    """No container's environment, the one-shot jobs' included, holds a secret's value (nor
    the password of a DSN); the services that need them read them from /run/secrets."""
    folder = os.path.join(repo, "secrets")
    values = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as f:
            values[name] = f.read()
    check(len(values) == 16 and all(len(v) >= 32 for v in values.values()),
          f"16 secret files made by script/compose-secrets: {sorted(values)}")
    oct_mode = oct(os.stat(folder).st_mode & 0o777)
    check(oct_mode == "0o700", f"secrets/ is 0700 ({oct_mode})")
    names = run("podman", "ps", "-a", "--filter", f"label=com.docker.compose.project={PROJECT}",
                "--format", "{{.Names}}").stdout.split()
    leaks = []
    for name in names:
        env = json.loads(run("podman", "inspect", name, "--format", "{{json .Config.Env}}").stdout)
        for entry in env:
            leaks += [f"{name}: {entry.split('=', 1)[0]} holds {secret}" for secret, v in values.items()
                      if v and v in entry]
    check(len(names) >= 13 and not leaks,
          f"no secret in the environment of any of the {len(names)} containers (the jobs' too): {leaks[:5]}")
    dsn = run("podman", "exec", container("pollbook"), "bash", "-c",
              "echo $SPLITVOTE_DB__DSN_FILE; [[ -r $SPLITVOTE_DB__DSN_FILE ]] && echo readable").stdout.split()
    check(dsn == ["/run/secrets/pollbook_dsn", "readable"], f"the pollbook reads its DSN from a secret file: {dsn}")


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex((HOST, port)) != 0


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    repo, build_dir = sys.argv[1], sys.argv[2]
    if not shutil.which("podman") and not shutil.which("apt-get"):
        print("SKIPPED: no podman and no apt-get to install it: compose.yaml was NOT run")
        return 77
    for port in (PORT, PLAIN_PORT):
        if not port_free(port):
            print(f"FAILED: {HOST}:{port} is taken (compose.yaml publishes the proxy there): stop what listens on it")
            return 1
    env = dict(os.environ, SPLITVOTE_COMPOSE_PROJECT=PROJECT,
               SPLITVOTE_COMPOSE_EXTRA="tests/compose/fast-mixing.yaml")
    try:
        compose_local(repo, "down", "-v", env=env)  # what an earlier, interrupted run left
    except RuntimeError:
        pass
    try:
        compose_local(repo, "up", "--prebuilt", build_dir, env=env)
        # 1. healthchecks, users, key files
        names = run("podman", "ps", "--filter", f"label=io.podman.compose.project={PROJECT}",
                    "--format", "{{.Names}}").stdout.split()
        check(len(names) == 9, f"9 long-running containers (two ingest replicas; no grafana locally): {names}")
        for name in names:
            check(run("podman", "healthcheck", "run", name, check_status=False).returncode == 0,
                  f"{name}: its healthcheck passes")
        for service in ("ingest", "pollbook", "ballotbox"):
            uid = run("podman", "exec", container(service), "bash", "-c", "echo $UID").stdout.strip()
            check(uid == "10001", f"{service} runs as uid 10001 ({uid})")
        check_secrets(repo)
        keys_before = {v: key_files(f"{PROJECT}_{v}")
                       for v in ("pollbook-keys", "ballotbox-keys", "public-keys", "proxy-tls")}
        tls = keys_before["proxy-tls"]
        check(tls.get("tls.key", (None,))[:2] == ("0o600", 10001), f"tls.key is 0600, uid 10001: {tls.get('tls.key')}")
        check(tls.get("tls.crt", (None,))[:2] == ("0o644", 10001), f"tls.crt is 0644, uid 10001: {tls.get('tls.crt')}")
        mount = run("podman", "volume", "inspect", f"{PROJECT}_proxy-tls", "--format", "{{.Mountpoint}}").stdout.strip()
        TLS.load_verify_locations(os.path.join(mount, "tls.crt"))
        plain = http.client.HTTPConnection(HOST, PLAIN_PORT, timeout=30)
        plain.request("POST", "/v1/polls", body="{}", headers={"Content-Type": "application/json"})
        r = plain.getresponse()
        r.read()
        check(r.status == 308 and r.getheader("Location") == f"https://{HOST}:{PORT}/v1/polls",
              f"plain HTTP is redirected to HTTPS: {r.status} {r.getheader('Location')}")
        plain.close()
        secure = http.client.HTTPSConnection(HOST, PORT, timeout=30, context=TLS)
        secure.request("GET", "/livez")
        r = secure.getresponse()
        r.read()
        check(r.status == 200 and r.getheader("Strict-Transport-Security", "").startswith("max-age="),
              f"HTTPS with the certificate verified for {HOST}, and HSTS: {r.status} {r.getheader('Strict-Transport-Security')}")
        secure.close()
        for who in ("pollbook", "ballotbox"):
            files = keys_before[f"{who}-keys"]
            check(files.get(f"{who}.key", (None,))[:2] == ("0o600", 10001), f"{who}.key is 0600, uid 10001: {files.get(f'{who}.key')}")
            check(files.get(f"{who}.pub", (None, None))[1] == 10001, f"{who}.pub beside it, uid 10001: {files.get(f'{who}.pub')}")
            public = keys_before["public-keys"].get(f"{who}.pub")
            check(public is not None and public[:2] == ("0o644", 10001), f"public/{who}.pub is 0644, uid 10001: {public}")
            check(not any(name.endswith(".key") for name in keys_before["public-keys"]), "no secret key in public-keys")

        # 2. a poll, keep-alive and fresh-connection votes, exact results
        status, poll = request("POST", "/v1/polls", EXACT)
        if not check(status == 201, f"poll created through nginx ({status})"):
            return 1
        expected = {}
        add(expected, cast(poll["id"], "keepalive", 30, keep_alive=True))
        add(expected, cast(poll["id"], "fresh", 30, keep_alive=False))
        res = results_reach(poll, expected)
        check(res.get("participation", {}).get("submissions") == 60, f"60 votes stored: {res.get('participation')}")
        check({c["choice"]: c["released_count"] for c in res.get("choices", [])} == expected,
              f"exact results {expected}: {res.get('choices')}")

        # 3. kill -9 a consumer while votes go on
        before = run("podman", "inspect", container("pollbook"), "--format", "{{.State.StartedAt}}").stdout.strip()
        # The process killed from outside, as the kernel's OOM killer or a crash would end it
        # (`podman kill` would count as stopped by the user, which no restart policy restarts).
        pid = run("podman", "inspect", container("pollbook"), "--format", "{{.State.Pid}}").stdout.strip()
        os.kill(int(pid), 9)
        add(expected, cast(poll["id"], "during-kill", 30, keep_alive=True))
        deadline = time.monotonic() + 60
        after = before
        while time.monotonic() < deadline:
            state = run("podman", "inspect", container("pollbook"), "--format",
                        "{{.State.Status}} {{.State.StartedAt}}").stdout.strip()
            after = state.split(" ", 1)[1] if state.startswith("running ") else before
            if after != before:
                break
            time.sleep(1)
        check(after != before, "the restart policy brought the killed pollbook back")
        res = results_reach(poll, expected)
        check(res.get("participation", {}).get("submissions") == 90 and
              {c["choice"]: c["released_count"] for c in res.get("choices", [])} == expected,
              f"nothing lost across the kill: 90 votes, {expected}: {res.get('participation')} {res.get('choices')}")

        # 4. down, up: the volumes keep polls, votes and keys
        compose_local(repo, "down", env=env)
        compose_local(repo, "up", "--prebuilt", build_dir, env=env)
        status, again = request("GET", f"/v1/polls/{poll['id']}")
        check(status == 200 and again.get("title") == "Lunch", f"the poll survived down/up ({status})")
        res = results_reach(poll, expected, timeout=30)
        check(res.get("participation", {}).get("submissions") == 90 and
              {c["choice"]: c["released_count"] for c in res.get("choices", [])} == expected,
              f"its results survived down/up: {res.get('participation')} {res.get('choices')}")
        check(vote(poll["id"], "keepalive-0", "sushi") == 409, "an actor who voted before down/up is refused (409)")
        keys_after = {v: key_files(f"{PROJECT}_{v}") for v in keys_before}
        check(keys_after == keys_before, "keygen kept the key pairs and tls-cert the certificate (same files, modes)")
    except RuntimeError as e:
        check(False, str(e))
    finally:
        try:
            compose_local(repo, "down", "-v", env=env)
        except RuntimeError as e:
            print(f"cleanup: {e}")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("compose.yaml ran with podman-compose: every check held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
