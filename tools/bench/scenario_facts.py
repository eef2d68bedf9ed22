#!/usr/bin/env python3
"""Adds to a scenario's JSON (splitvote-bench --json) what the scenario was, and what a vote
cost: bytes on the topic (ingest's delivered envelopes: value + headers) and in each store
(growth of its tables over the scenario: rows and indexes) per delivered vote. script/bench
runs it after each scenario.

    scenario_facts.py JSON TARGET DECOYS INSTANCES BATCH STATUS PARTITIONS INGEST_METRICS
                      POLLBOOK_BYTES_BEFORE BALLOTBOX_BYTES_BEFORE POLLBOOK_BYTES_AFTER BALLOTBOX_BYTES_AFTER
"""
import json, os, re, sys

path, target, decoys, instances, batch, status, partitions, metrics = sys.argv[1:9]
pollbook_before, ballotbox_before, pollbook_after, ballotbox_after = map(int, sys.argv[9:13])
with open(path) as f:
    d = json.load(f)
d["scenario"] = {"target": target, "decoys": decoys, "consumer_instances": int(instances),
                 "batch_max": int(batch), "bench_exit_status": int(status), "topic_partitions": int(partitions)}
if target == "ingest" and os.path.exists(metrics):
    text = open(metrics).read()
    def sample(pattern):
        m = re.search(r"^" + pattern + r" ([0-9.e+]+)$", text, re.M)
        return float(m.group(1)) if m else 0.0
    delivered = sample(r'splitvote_produce_total\{outcome="delivered"\}') + \
        sample(r'splitvote_produce_total\{outcome="delivered_after_deadline"\}')
    if delivered:
        cost = {"votes_delivered": int(delivered),
                "kafka_bytes_per_vote": sample("splitvote_produced_bytes_total") / delivered,
                "ballots_per_vote": sample("splitvote_ballots_produced_total") / delivered}
        if int(instances) > 0:
            cost["pollbook_bytes_per_vote"] = (pollbook_after - pollbook_before) / delivered
            cost["ballotbox_bytes_per_vote"] = (ballotbox_after - ballotbox_before) / delivered
        d["cost"] = cost
with open(path, "w") as f:
    json.dump(d, f)
