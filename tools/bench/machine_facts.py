#!/usr/bin/env python3
"""The machine and the settings a benchmark ran with, for the report (script/bench).

    machine_facts.py JSON DURATION WARMUP CONNECTIONS CLIENT_THREADS INGEST_THREADS PARTITIONS [QUICK]
"""
import json, os, platform, re, subprocess, sys, datetime

path, duration, warmup, connections, client_threads, ingest_threads, partitions, quick = (sys.argv[1:] + [""])[:8]
def pkg(name):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True)
    return r.stdout.strip() or None
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
facts = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem / 1024 / 1024, 1),
    "kernel": platform.release(), "loadavg_at_end": open("/proc/loadavg").read().split()[:3],
    "packages": {p: pkg(p) for p in ["librdkafka1", "libpqxx-6.4", "postgresql-15", "libboost1.81-dev", "g++-12", "libsodium23"]},
    "settings": {"duration_s": float(duration), "warmup_s": float(warmup), "connections": int(connections),
                 "client_threads": int(client_threads), "ingest_http_threads": int(ingest_threads),
                 "topic_partitions": int(partitions), "postgres_fsync": os.environ.get("SPLITVOTE_PG_FSYNC", "on")},
    "quick": bool(quick),
}
with open(path, "w") as f:
    json.dump(facts, f, indent=1)
