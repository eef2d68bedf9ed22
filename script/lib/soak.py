#!/usr/bin/env python3
"""The client side of script/soak (Python 3 standard library only).

  soak.py load     votes from keep-alive and fresh-connection clients for a fixed time, every
                   vote from a new actor, plus one results poller per poll (an open browser
                   tab); writes the ledger (actor, poll, choice, answer) and the load's counts.
  soak.py settle   waits until both stores have caught up (consistency.complete) and the
                   counts stop moving; writes the last results of each poll.
  soak.py account  holds the ledger against what was stored (the API's counts, and each
                   stored actor key recomputed from the ledger), adds the kills and the RSS
                   samples, prints the summary and writes the JSON report; exit 1 on a loss,
                   a double, a refused vote stored, or a service that did not come back.
"""
import argparse
import collections
import hashlib
import hmac
import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.error
import urllib.request

VOTE_TIMEOUT_S = 15  # ingest answers within kafka.delivery_timeout_ms (5 s); more is a hang


def problem_label(status, body):
    """'202', '409', or '503 outcome-unknown': a 503's problem type says whether it may be stored."""
    if status == 503:
        try:
            kind = json.loads(body).get("type", "")
            return "503 " + kind.rsplit("/", 1)[-1]
        except (ValueError, AttributeError):
            return "503 ?"
    return str(status)


def error_label(exc):
    return "no-answer " + type(exc).__name__


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


class ledger:
    """Every vote's actor, poll, choice and answer; shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows = []
        self.latencies = []

    def add(self, actor, poll, choice, label, seconds):
        with self.lock:
            self.rows.append((actor, poll, choice, label))
            self.latencies.append(seconds)


def vote_body(actor, choice):
    return json.dumps({"actor_id": actor, "choice": choice}).encode()


def paced_votes(args, client, polls, stop_at):
    """One client's share of the rate until stop_at: (poll, actor, choice) when each vote is due."""
    interval = args.threads / args.rate
    rnd = random.Random(f"{args.run}-{client}")
    next_t = time.monotonic()
    n = 0
    while True:
        now = time.monotonic()
        if now >= stop_at:
            return
        if next_t > now:
            time.sleep(next_t - now)
        next_t = max(next_t + interval, time.monotonic() - 1.0)  # catch up at most 1 s
        n += 1
        poll = polls[n % len(polls)]
        yield poll, f"soak-{args.run}-{client}-{n}", rnd.choice(["a", "b"])


def keepalive_client(args, index, polls, book, stop_at):
    """One connection, reused for every vote; opened again only after it failed."""
    conn = None
    for poll, actor, choice in paced_votes(args, f"k{index}", polls, stop_at):
        started = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(args.host, args.port, timeout=VOTE_TIMEOUT_S)
            conn.request("POST", f"/v1/polls/{poll}/votes", body=vote_body(actor, choice),
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            label = problem_label(response.status, response.read())
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as exc:
            label = error_label(exc)
            if conn is not None:
                conn.close()
            conn = None
        book.add(actor, poll, choice, label, time.monotonic() - started)
    if conn is not None:
        conn.close()


def fresh_client(args, index, polls, book, stop_at):
    """A new connection for every vote, as urllib makes it (it sends Connection: close)."""
    for poll, actor, choice in paced_votes(args, f"f{index}", polls, stop_at):
        request = urllib.request.Request(f"http://{args.host}:{args.port}/v1/polls/{poll}/votes",
                                         data=vote_body(actor, choice), method="POST",
                                         headers={"Content-Type": "application/json"})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=VOTE_TIMEOUT_S) as response:
                label = problem_label(response.status, response.read())
        except urllib.error.HTTPError as exc:
            label = problem_label(exc.code, exc.read())
        except urllib.error.URLError as exc:
            label = error_label(exc.reason if isinstance(exc.reason, Exception) else exc)
        except (OSError, http.client.HTTPException) as exc:
            label = error_label(exc)
        book.add(actor, poll, choice, label, time.monotonic() - started)


def results_tab(args, poll, admin, stats, stop_at):
    """GET /results about once a second on one keep-alive connection, like an open page."""
    conn = None
    while time.monotonic() < stop_at:
        started = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(args.host, args.port, timeout=VOTE_TIMEOUT_S)
            conn.request("GET", f"/v1/polls/{poll}/results", headers={"Authorization": f"Bearer {admin}"})
            response = conn.getresponse()
            response.read()
            label = str(response.status)
        except (OSError, http.client.HTTPException) as exc:
            label = error_label(exc)
            if conn is not None:
                conn.close()
            conn = None
        elapsed = time.monotonic() - started
        with stats["lock"]:
            stats["statuses"][label] += 1
            stats["latencies"].append(elapsed)
        time.sleep(max(0.0, 1.0 - elapsed))
    if conn is not None:
        conn.close()


def load(args):
    polls = json.load(open(args.polls))
    ids = [p["id"] for p in polls]
    book = ledger()
    tabs = {"lock": threading.Lock(), "statuses": collections.Counter(), "latencies": []}
    started_wall = time.time()
    stop_at = time.monotonic() + args.seconds
    threads = []
    for i in range(args.keepalive):
        threads.append(threading.Thread(target=keepalive_client, args=(args, i, ids, book, stop_at)))
    for i in range(args.fresh):
        threads.append(threading.Thread(target=fresh_client, args=(args, i, ids, book, stop_at)))
    for p in polls:
        threads.append(threading.Thread(target=results_tab, args=(args, p["id"], p["admin_token"], tabs, stop_at)))
    for t in threads:
        t.start()
    print(f"soak: load started: {args.keepalive} keep-alive and {args.fresh} fresh-connection clients, "
          f"~{args.rate:g} votes/s, {len(polls)} poll(s), {args.seconds} s", flush=True)
    last_report = time.monotonic()
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        if time.monotonic() - last_report >= args.progress_every:
            last_report = time.monotonic()
            with book.lock:
                counts = collections.Counter(row[3] for row in book.rows)
            print(f"soak: {int(time.time() - started_wall)} s: {sum(counts.values())} votes sent, "
                  + ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items())), flush=True)
    for t in threads:
        t.join()
    elapsed = time.time() - started_wall
    with open(args.ledger, "w") as f:
        for row in book.rows:
            f.write("\t".join(row) + "\n")
    lat = sorted(book.latencies)
    tab_lat = sorted(tabs["latencies"])
    counts = collections.Counter(row[3] for row in book.rows)
    summary = {
        "started": started_wall, "seconds": round(elapsed, 1), "target_rate": args.rate,
        "keepalive_clients": args.keepalive, "fresh_clients": args.fresh,
        "sent": len(book.rows), "rate": round(len(book.rows) / elapsed, 1),
        "answers": dict(sorted(counts.items())),
        "vote_latency_ms": {q: round(1000 * percentile(lat, v), 1) for q, v in
                            (("p50", 0.5), ("p99", 0.99), ("max", 1.0))} if lat else {},
        "results_polls": {"requests": len(tab_lat), "answers": dict(sorted(tabs["statuses"].items())),
                          "latency_ms": {q: round(1000 * percentile(tab_lat, v), 1) for q, v in
                                         (("p50", 0.5), ("p99", 0.99), ("max", 1.0))} if tab_lat else {}},
    }
    json.dump(summary, open(args.out, "w"), indent=1)
    print(f"soak: load done: {summary['sent']} votes in {summary['seconds']} s ({summary['rate']}/s)", flush=True)


def get_results(args, poll, admin):
    conn = http.client.HTTPConnection(args.host, args.port, timeout=10)
    try:
        conn.request("GET", f"/v1/polls/{poll}/results", headers={"Authorization": f"Bearer {admin}"})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"results: {response.status} {body[:200]!r}")
        return json.loads(body)
    finally:
        conn.close()


def settle(args):
    """Until every poll says complete with the same counts twice in a row, 1 s apart."""
    polls = json.load(open(args.polls))
    deadline = time.monotonic() + args.timeout
    started = time.monotonic()
    previous, last = None, None
    while time.monotonic() < deadline:
        try:
            last = {p["id"]: get_results(args, p["id"], p["admin_token"]) for p in polls}
        except (OSError, RuntimeError, ValueError, http.client.HTTPException) as exc:
            print(f"soak: settle: {exc}", flush=True)
            time.sleep(1)
            continue
        key = {pid: (r["participation"]["submissions"], r["consistency"]["ballotbox_envelopes"])
               for pid, r in last.items()}
        if all(r["consistency"]["complete"] for r in last.values()) and key == previous:
            json.dump({"settled": True, "seconds": round(time.monotonic() - started, 1), "results": last},
                      open(args.out, "w"), indent=1)
            print(f"soak: both stores caught up {time.monotonic() - started:.1f} s after the load stopped", flush=True)
            return 0
        previous = key if all(r["consistency"]["complete"] for r in last.values()) else None
        time.sleep(1)
    json.dump({"settled": False, "seconds": round(time.monotonic() - started, 1), "results": last},
              open(args.out, "w"), indent=1)
    print(f"soak: the stores did not catch up within {args.timeout} s", flush=True)
    return 1


def actor_key(secret, salt, actor):
    """privacy::derive_actor_key: HMAC(HMAC(secret, 'splitvote/poll/' + salt), actor)."""
    poll_key = hmac.new(secret, b"splitvote/poll/" + salt.encode(), hashlib.sha256).digest()
    return hmac.new(poll_key, actor.encode(), hashlib.sha256).hexdigest()


MAYBE_STORED = ("503 outcome-unknown",)  # and a vote without an answer, unless it never got through


def vote_class(label):
    """accepted, refused (must not be stored) or maybe (may be stored, at most once)."""
    if label == "202":
        return "accepted"
    if label in MAYBE_STORED:
        return "maybe"
    if label.startswith("no-answer"):
        # Refused at connect: the request never reached ingest.
        return "refused" if label == "no-answer ConnectionRefusedError" else "maybe"
    return "refused"


def rss_table(path, start_at, end_at):
    """Per service: RSS at start and end (the sample nearest each time), peak, and the pids seen."""
    samples = collections.defaultdict(list)
    for line in open(path):
        t, name, pid, kb = line.split()
        samples[name].append((float(t), int(pid), int(kb)))
    table = {}
    for name, rows in samples.items():
        start = min(rows, key=lambda r: abs(r[0] - start_at))
        end = min(rows, key=lambda r: abs(r[0] - end_at))
        peak = max(rows, key=lambda r: r[2])
        pids = list(dict.fromkeys(r[1] for r in rows))
        table[name] = {"start_kb": start[2], "start_pid": start[1], "end_kb": end[2], "end_pid": end[1],
                       "peak_kb": peak[2], "peak_pid": peak[1], "processes": len(pids),
                       "end_is_restarted_process": end[1] != start[1]}
    return table


def account(args):
    polls = json.load(open(args.polls))
    loadsum = json.load(open(args.load))
    settled = json.load(open(args.settled))
    secret = open(args.actor_secret, "rb").read().rstrip(b"\r\n")
    failures = []

    rows = [line.rstrip("\n").split("\t") for line in open(args.ledger)]
    per_poll = {}
    for p in polls:
        pid = p["id"]
        salt = open(os.path.join(args.stored_dir, f"{pid}.salt")).read().strip()
        stored_keys = collections.Counter(line.strip() for line in open(os.path.join(args.stored_dir, f"{pid}.keys"))
                                          if line.strip())
        by_key = {}
        classes = collections.Counter()
        for actor, poll, choice, label in rows:
            if poll != pid:
                continue
            by_key[actor_key(secret, salt, actor)] = (label, choice)
            classes[vote_class(label)] += 1
        outcome = collections.Counter()
        accepted_choices = collections.Counter()
        for key, (label, choice) in by_key.items():
            c = vote_class(label)
            if c == "accepted":
                accepted_choices[choice] += 1
            outcome[c + (" stored" if key in stored_keys else " not stored")] += 1
        strangers = sum(1 for k in stored_keys if k not in by_key)
        r = (settled.get("results") or {}).get(pid) or {}
        part, cons = r.get("participation", {}), r.get("consistency", {})
        submissions, unique = part.get("submissions"), part.get("unique_actors")
        envelopes = cons.get("ballotbox_envelopes")
        lost = outcome["accepted not stored"]
        doubled_rows = sum(stored_keys.values()) - len(stored_keys)
        entry = {
            "poll": pid, "sent": sum(classes.values()), "accepted": classes["accepted"],
            "maybe_stored_sent": classes["maybe"], "refused": classes["refused"],
            "api": {"submissions": submissions, "unique_actors": unique, "duplicates": part.get("duplicates"),
                    "ballotbox_envelopes": envelopes, "stores_agree": cons.get("stores_agree"),
                    "complete": cons.get("complete"),
                    "choices": {c["choice"]: c.get("released_count") for c in r.get("choices", [])}},
            "ledger_check": {"stored_rows": sum(stored_keys.values()), "stored_actors": len(stored_keys),
                             "accepted_stored": outcome["accepted stored"], "lost": lost,
                             "maybe_stored": outcome["maybe stored"], "maybe_not_stored": outcome["maybe not stored"],
                             "refused_stored": outcome["refused stored"], "unknown_actors_stored": strangers,
                             "doubled_rows": doubled_rows},
            "accepted_by_choice": dict(sorted(accepted_choices.items())),
        }
        doubled_api = None if submissions is None or unique is None else submissions - unique
        entry["doubled"] = doubled_api
        entry["lost"] = lost
        # The API's own arithmetic: unique_actors = accepted - lost + maybe stored + refused stored.
        if unique is not None:
            expected = classes["accepted"] - lost + outcome["maybe stored"] + outcome["refused stored"] + strangers
            entry["api_reconciles"] = unique == expected
            if unique != expected:
                failures.append(f"poll {pid}: unique_actors {unique}, the ledger check gives {expected}")
        if len(stored_keys) != (unique if unique is not None else -1):
            failures.append(f"poll {pid}: {len(stored_keys)} stored actors read from the table, the API says {unique}")
        if lost:
            failures.append(f"poll {pid}: {lost} votes answered 202 are not stored")
        if doubled_api or doubled_rows:
            failures.append(f"poll {pid}: doubled: submissions - unique_actors = {doubled_api}, rows - actors = {doubled_rows}")
        if outcome["refused stored"]:
            failures.append(f"poll {pid}: {outcome['refused stored']} refused votes are stored")
        if strangers:
            failures.append(f"poll {pid}: {strangers} stored actors are not in the ledger")
        if envelopes != submissions:
            failures.append(f"poll {pid}: ballotbox envelopes {envelopes} != pollbook submissions {submissions}")
        # No decoys and no noise: each choice's released count is its stored ballots, which
        # with no outcome-unknown votes must be exactly the 202s for that choice.
        released = entry["api"]["choices"]
        if classes["maybe"] == 0 and all(v is not None for v in released.values()):
            entry["ballots_match_202s"] = all(released.get(c, 0) == accepted_choices.get(c, 0)
                                              for c in set(released) | set(accepted_choices))
            if not entry["ballots_match_202s"]:
                failures.append(f"poll {pid}: ballots by choice {released}, 202s by choice {dict(accepted_choices)}")
        per_poll[pid] = entry
    if not settled.get("settled"):
        failures.append("the stores did not catch up after the load")

    kills = []
    for line in open(args.kills):
        t, name, old, new, restarted_s, ready_s = line.split()
        kills.append({"at_s": round(float(t) - loadsum["started"], 1), "service": name, "killed_pid": int(old),
                      "new_pid": None if new == "-" else int(new),
                      "restarted_after_s": None if restarted_s == "-" else float(restarted_s),
                      "ready_after_s": None if ready_s == "-" else float(ready_s)})
        if new == "-" or ready_s == "-":
            failures.append(f"{name} killed at {kills[-1]['at_s']} s did not come back (ready)")
    extra = {"run": {}, "after": {}, "failure": []}
    for line in open(args.extra) if args.extra else []:
        part, key, value = line.rstrip("\n").split("\t", 2)
        if part == "failure":
            extra["failure"].append(value)
        else:
            extra[part][key] = value
    failures.extend(extra["failure"])
    rss = rss_table(args.rss, args.rss_start, args.rss_end)

    totals = collections.Counter()
    for e in per_poll.values():
        for k in ("sent", "accepted", "maybe_stored_sent", "refused", "lost"):
            totals[k] += e[k]
        totals["doubled"] += e["doubled"] or 0
        totals["submissions"] += e["api"]["submissions"] or 0
        totals["unique_actors"] += e["api"]["unique_actors"] or 0
        totals["envelopes"] += e["api"]["ballotbox_envelopes"] or 0
        totals["maybe_stored"] += e["ledger_check"]["maybe_stored"]
        totals["refused_stored"] += e["ledger_check"]["refused_stored"]
    report = {"ok": not failures, "failures": failures, "run": extra["run"], "load": loadsum,
              "settle_seconds": settled.get("seconds"), "totals": dict(totals), "polls": per_poll,
              "kills": kills, "rss_kb": rss, "after": extra["after"]}
    json.dump(report, open(args.out, "w"), indent=1)

    p = print
    p("")
    p("soak summary")
    for k, v in report["run"].items():
        p(f"  {k:<34}{v}")
    p(f"  {'load':<34}{loadsum['seconds']} s, {loadsum['rate']} votes/s (target {loadsum['target_rate']:g}), "
      f"{loadsum['keepalive_clients']} keep-alive + {loadsum['fresh_clients']} fresh-connection clients")
    p(f"  {'votes sent':<34}{totals['sent']}")
    p(f"  {'answers':<34}" + ", ".join(f"{k} ×{v}" for k, v in loadsum["answers"].items()))
    p(f"  {'vote latency ms':<34}" + ", ".join(f"{k} {v}" for k, v in loadsum["vote_latency_ms"].items()))
    rp = loadsum["results_polls"]
    p(f"  {'results polls':<34}{rp['requests']}: " + ", ".join(f"{k} ×{v}" for k, v in rp["answers"].items())
      + "; ms " + ", ".join(f"{k} {v}" for k, v in rp["latency_ms"].items()))
    p(f"  {'accepted (202)':<34}{totals['accepted']}")
    p(f"  {'outcome unknown':<34}{totals['maybe_stored_sent']} sent (503 outcome-unknown or no answer), "
      f"{totals['maybe_stored']} of them stored")
    p(f"  {'refused (other answers)':<34}{totals['refused']} sent, {totals['refused_stored']} of them stored")
    p(f"  {'stored (pollbook)':<34}{totals['submissions']} submissions, {totals['unique_actors']} unique actors")
    p(f"  {'stored (ballotbox)':<34}{totals['envelopes']} envelopes")
    p(f"  {'lost':<34}{totals['lost']}  (202s whose actor key is not in the pollbook)")
    p(f"  {'doubled':<34}{totals['doubled']}  (submissions - unique_actors)")
    p(f"  {'arithmetic':<34}unique_actors {totals['unique_actors']} = accepted {totals['accepted']} - lost "
      f"{totals['lost']} + unknown stored {totals['maybe_stored']} + refused stored {totals['refused_stored']}")
    matched = [e.get("ballots_match_202s") for e in per_poll.values()]
    p(f"  {'ballots by choice':<34}" + ("equal to the 202s by choice in every poll" if all(m is True for m in matched)
                                        else "not compared (outcome-unknown votes or no release yet)"
                                        if all(m is None for m in matched) else "DIFFERENT from the 202s by choice"))
    p(f"  {'caught up':<34}{settled.get('seconds')} s after the load stopped")
    p("  consumer kills (SIGKILL), at s of load: service, restarted after s, ready after s")
    for k in kills:
        p(f"    {k['at_s']:>7}  {k['service']:<10} {k['restarted_after_s']}  {k['ready_after_s']}")
    p("  RSS (MiB)        start    end   peak  processes")
    for name in ("ingest", "pollbook", "ballotbox", "dev-broker"):
        if name not in rss:
            continue
        r = rss[name]
        note = "  (end: a restarted process)" if r["end_is_restarted_process"] else ""
        p(f"    {name:<12} {r['start_kb'] / 1024:7.1f} {r['end_kb'] / 1024:6.1f} {r['peak_kb'] / 1024:6.1f}"
          f"  {r['processes']:>3}{note}")
    for k, v in report["after"].items():
        p(f"  {k:<34}{v}")
    p(f"  {'report':<34}{args.report_path or args.out}")
    if failures:
        p("FAILED:")
        for f in failures:
            p(f"  {f}")
        return 1
    p("ok: every 202 stored exactly once, nothing refused stored, every killed consumer came back")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("load", "settle", "account"):
        s = sub.add_parser(name)
        s.add_argument("--host", default="127.0.0.1")
        s.add_argument("--port", type=int)
        s.add_argument("--polls", required=True, help="JSON list of {id, admin_token}")
    s = sub.choices["load"]
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--rate", type=float, default=150)
    s.add_argument("--keepalive", type=int, default=4)
    s.add_argument("--fresh", type=int, default=4)
    s.add_argument("--run", default=str(os.getpid()))
    s.add_argument("--progress-every", type=float, default=30)
    s.add_argument("--ledger", required=True)
    s.add_argument("--out", required=True)
    s = sub.choices["settle"]
    s.add_argument("--timeout", type=float, default=180)
    s.add_argument("--out", required=True)
    s = sub.choices["account"]
    for a in ("--load", "--settled", "--ledger", "--actor-secret", "--stored-dir", "--kills", "--rss", "--out"):
        s.add_argument(a, required=True)
    s.add_argument("--rss-start", type=float, required=True)
    s.add_argument("--rss-end", type=float, required=True)
    s.add_argument("--extra", help="TSV of script/soak's facts: 'run|after KEY VALUE' or 'failure - TEXT'")
    s.add_argument("--report-path")
    args = parser.parse_args()
    if args.command == "load":
        args.threads = args.keepalive + args.fresh
        load(args)
        return 0
    return {"settle": settle, "account": account}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
