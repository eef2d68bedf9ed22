#!/usr/bin/env python3
"""Holds the compose stack's Prometheus config, alert rules and Grafana dashboards to the code.

Usage: check_prometheus.py SOURCE_DIR

SOURCE_DIR is the repository root. Checks:

1. `promtool check config deploy/compose/prometheus.yml` (it loads the rule_files too),
   `promtool check rules deploy/compose/alerts.yml` and `promtool test rules
   deploy/compose/alerts.test.yml` (each alert fires on its case and not on the look-alike).
2. Every expression of every dashboard panel (deploy/compose/grafana/dashboards/*.json) and
   of every rule in alerts.yml names only series the code exposes: the metric families
   registered with prometheus-cpp under libs/ and services/ (histograms as _bucket, _sum and
   _count, never the bare family name), or Prometheus' own (up, ALERTS, ...). Label names in
   matchers and in by/without/on/ignoring lists are labels the code attaches or Prometheus
   adds (job, instance, le, ...).
3. The dashboard expressions parse as PromQL (promtool, with Grafana's $__rate_interval and
   friends replaced by a duration).
4. Each panel's datasource is a provisioned one (grafana/provisioning/datasources/*.yaml).
5. compose.yaml mounts each rule file next to prometheus.yml in the prometheus service, and
   the dashboards directory where the dashboard provider looks for it.

Prints one line per failure and exits 1; exits 0 with a summary line; exits 77 (CTest
SKIP_RETURN_CODE) when every check that needs no promtool held but promtool is not installed
(Debian package `prometheus`, which script/bootstrap installs); 2 on bad usage.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

from contract_cli import bad_usage, listed, verdict  # beside this script

COMPOSE_DIR = "deploy/compose"
# Series Prometheus makes itself: per target, and for alert rules.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                     "scrape_samples_post_metric_relabeling", "scrape_series_added",
                     "ALERTS", "ALERTS_FOR_STATE"}
# Labels Prometheus attaches (target labels, histogram buckets, alert series).
PROMETHEUS_LABELS = {"job", "instance", "le", "quantile", "__name__", "alertname", "alertstate"}
# Grafana's built-in variables, as promtool would see them once Grafana has expanded them.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h",
                     "$__range_s": "3600", "$__range_ms": "3600000", "$__interval_ms": "15000"}
# prometheus-cpp's builders, and observability's one-line helpers (metrics.hpp) around them.
FAMILY = re.compile(r"(?:Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\(|"
                    r"observability::(counter|gauge|histogram|latency_histogram)(?:_family)?\()"
                    r"\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\"")
LABEL_KEY = re.compile(r"\{\s*\"([a-zA-Z_][a-zA-Z0-9_]*)\"\s*,")
IDENT = re.compile(r"(?<![\w.:$])[a-zA-Z_:][a-zA-Z0-9_:]*")
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan", "Inf", "NaN",
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
            "bottomk", "topk", "quantile", "limitk", "limit_ratio", "atan2"}


def code_metrics(source_dir):
    """({series name: family}, {family: type}, label names) registered in libs/ and services/."""
    families, labels = {}, set()
    for top in ("libs", "services"):
        for path in glob.glob(os.path.join(source_dir, top, "**", "*.[ch]pp"), recursive=True) + \
                glob.glob(os.path.join(source_dir, top, "**", "*.h"), recursive=True):
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for built, helper, name in FAMILY.findall(text):
                families[name] = built or ("Histogram" if "histogram" in helper else helper.capitalize())
            # Label keys only where metrics get them (json::object literals look the same).
            for line in text.splitlines():
                if ".Add(" in line or "Labels" in line:
                    labels.update(LABEL_KEY.findall(line))
    series = {}
    for name, kind in families.items():
        if kind == "Histogram":
            for suffix in ("_bucket", "_sum", "_count"):
                series[name + suffix] = name
        elif kind == "Summary":
            for suffix in ("", "_sum", "_count"):
                series[name + suffix] = name
        else:
            series[name] = name
    return series, families, labels


def strip_strings(expr):
    return re.sub(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`", '""', expr)


def names_in(expr):
    """(metric names, label names) an expression refers to (a small lexer, not a parser)."""
    for var, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(var, value)
    text = strip_strings(expr)
    labels = set()
    # Matchers: {label op "value", ...}
    def matchers(m):
        labels.update(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", m.group(1)))
        return " "
    text = re.sub(r"\{([^{}]*)\}", matchers, text)
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    def grouping(m):
        labels.update(n.strip() for n in m.group(2).split(",") if n.strip())
        return " "
    text = GROUPING.sub(grouping, text)
    metrics = set()
    for m in IDENT.finditer(text):
        name = m.group(0)
        if name in KEYWORDS or re.match(r"\s*\(", text[m.end():]):
            continue
        metrics.add(name)
    return metrics, labels


def check_expression(where, expr, series, families, labels):
    failures = []
    metrics, used_labels = names_in(expr)
    for name in sorted(metrics):
        if name in series or name in PROMETHEUS_SERIES:
            continue
        if families.get(name) in ("Histogram",):
            failures.append(f"{where}: {name} is a histogram: use {name}_bucket, _sum or _count")
        else:
            failures.append(f"{where}: metric {name} is exposed by no service (not registered in libs/ or services/)")
    for label in sorted(used_labels - labels - PROMETHEUS_LABELS):
        failures.append(f"{where}: label {label} is attached by no service (nor by Prometheus)")
    return failures


def dashboard_targets(dashboard):
    """(panel title, panel, target) of every query, rows' nested panels included."""
    def panels(items):
        for p in items or []:
            yield p
            yield from panels(p.get("panels"))
    for p in panels(dashboard.get("panels")):
        for t in p.get("targets") or []:
            yield p.get("title", f"panel {p.get('id')}"), p, t


def uid_of(datasource):
    if isinstance(datasource, dict):
        return datasource.get("uid")
    return datasource  # a name (old dashboards) or None (the default)


def run(args):
    proc = subprocess.run(args, capture_output=True, text=True)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def mounts(service):
    out = []
    for v in service.get("volumes") or []:
        if isinstance(v, dict):
            out.append((v.get("source"), v.get("target")))
        else:
            parts = str(v).split(":")
            if len(parts) >= 2:
                out.append((parts[0], parts[1]))
    return out


def check_compose_mounts(source_dir, prometheus_config, provider_paths):
    failures = []
    with open(os.path.join(source_dir, "compose.yaml")) as f:
        services = (yaml.safe_load(f) or {}).get("services") or {}
    def mounted(service_name, source, target):
        for s, t in mounts(services.get(service_name) or {}):
            if s and os.path.normpath(os.path.join(source_dir, s)) == os.path.normpath(source) \
                    and t.rstrip("/") == target.rstrip("/"):
                return True
        return False
    for rule_file in prometheus_config.get("rule_files") or []:
        source = os.path.join(source_dir, COMPOSE_DIR, rule_file)
        target = os.path.join("/etc/prometheus", rule_file)
        if not mounted("prometheus", source, target):
            failures.append(f"compose.yaml: prometheus does not mount {COMPOSE_DIR}/{rule_file} on {target} "
                            "(rule_files are relative to /etc/prometheus/prometheus.yml)")
    dashboards = os.path.join(source_dir, COMPOSE_DIR, "grafana", "dashboards")
    for path in provider_paths:
        if not mounted("grafana", dashboards, path):
            failures.append(f"compose.yaml: grafana does not mount {COMPOSE_DIR}/grafana/dashboards on {path} "
                            "(the dashboard provider's options.path)")
    return failures


def main(argv):
    if bad_usage(__doc__, argv, (2,)):
        return 2
    source_dir = argv[1]
    compose_dir = os.path.join(source_dir, COMPOSE_DIR)
    config_path = os.path.join(compose_dir, "prometheus.yml")
    grafana_dir = os.path.join(compose_dir, "grafana")
    failures = []

    series, families, labels = code_metrics(source_dir)
    if not families:
        print(f"no metric family found under {source_dir}/libs or services")
        return 1

    try:
        with open(config_path) as f:
            config = yaml.safe_load(f) or {}
        rule_paths = [os.path.join(compose_dir, r) for r in config.get("rule_files") or []]
        rules = []
        for path in rule_paths:
            with open(path) as f:
                for group in (yaml.safe_load(f) or {}).get("groups") or []:
                    for rule in group.get("rules") or []:
                        rules.append((os.path.relpath(path, source_dir), rule))
        datasource_uids, provider_paths = set(), []
        for path in sorted(glob.glob(os.path.join(grafana_dir, "provisioning", "datasources", "*.yaml"))):
            with open(path) as f:
                for d in (yaml.safe_load(f) or {}).get("datasources") or []:
                    datasource_uids.update(x for x in (d.get("uid"), d.get("name")) if x)
        for path in sorted(glob.glob(os.path.join(grafana_dir, "provisioning", "dashboards", "*.yaml"))):
            with open(path) as f:
                for p in (yaml.safe_load(f) or {}).get("providers") or []:
                    provider_paths.append(((p.get("options") or {}).get("path")) or "")
        dashboards = []
        for path in sorted(glob.glob(os.path.join(grafana_dir, "dashboards", "*.json"))):
            with open(path) as f:
                dashboards.append((os.path.relpath(path, source_dir), json.load(f)))
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as e:
        print(f"cannot read input: {e}")
        return 1
    if not rules:
        failures.append(f"{os.path.relpath(config_path, source_dir)}: no alert rules (rule_files)")
    if not dashboards:
        failures.append(f"{COMPOSE_DIR}/grafana/dashboards: no dashboard")
    if not datasource_uids:
        failures.append(f"{COMPOSE_DIR}/grafana/provisioning/datasources: no datasource")
    if not provider_paths:
        failures.append(f"{COMPOSE_DIR}/grafana/provisioning/dashboards: no dashboard provider")

    for path, rule in rules:
        name = rule.get("alert") or rule.get("record") or "?"
        failures += check_expression(f"{path}: {name}", str(rule.get("expr", "")), series, families, labels)

    recording = []  # (record name, where, expr) for promtool's parser
    n_queries = 0
    for path, dashboard in dashboards:
        for title, panel, target in dashboard_targets(dashboard):
            where = f"{path}: panel '{title}' {target.get('refId', '?')}"
            expr = target.get("expr")
            if not expr:
                failures.append(f"{where}: no expr")
                continue
            n_queries += 1
            unknown = {uid_of(ds) for ds in (panel.get("datasource"), target.get("datasource"))} \
                - datasource_uids - {None}
            failures += [f"{where}: datasource {uid} is not provisioned" for uid in sorted(unknown)]
            failures += check_expression(where, expr, series, families, labels)
            for var, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(var, value)
            recording.append((f"dashboard_query_{len(recording)}", where, expr))

    failures += check_compose_mounts(source_dir, config, provider_paths)

    promtool = shutil.which("promtool")
    if promtool:
        for args in ([promtool, "check", "config", config_path],
                     *[[promtool, "check", "rules", p] for p in rule_paths]):
            code, out = run(args)
            if code != 0:
                failures.append(f"{' '.join(os.path.basename(a) for a in args)}: {out.splitlines()[-1] if out else code}")
                failures += [f"  {line}" for line in out.splitlines()[:-1]]
        tests = os.path.join(compose_dir, "alerts.test.yml")
        if os.path.exists(tests):
            # promtool resolves the test file's rule_files relative to the working directory.
            proc = subprocess.run([promtool, "test", "rules", os.path.basename(tests)], cwd=compose_dir,
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                failures.append("promtool test rules alerts.test.yml failed:")
                failures += [f"  {line}" for line in (proc.stdout + proc.stderr).strip().splitlines()]
        else:
            failures.append(f"{COMPOSE_DIR}/alerts.test.yml: missing (the alert rules' unit tests)")
        with tempfile.TemporaryDirectory() as tmp:
            rules_file = os.path.join(tmp, "dashboard-queries.yml")
            with open(rules_file, "w") as f:
                yaml.safe_dump({"groups": [{"name": "dashboards", "rules": [
                    {"record": name, "expr": expr} for name, _, expr in recording]}]}, f)
            code, out = run([promtool, "check", "rules", rules_file])
            if code != 0:
                located = [(re.search(r"dashboard_query_(\d+)", line), line) for line in out.splitlines()]
                located = [(recording[int(m.group(1))][1], line) for m, line in located if m]
                failures += [f"{where}: promtool: {line.split(': ', 1)[-1].strip()}" for where, line in located] \
                    or [f"promtool check rules (dashboard queries): {out}"]

    if listed(failures, ""):
        return 1
    summary = (f"{len(families)} metric families in the code; {len(rules)} alert rules and "
               f"{n_queries} queries of {len(dashboards)} dashboard(s) name only those")
    return verdict(summary, promtool, "promtool: config, rules, rule tests and query syntax valid",
                   "promtool (Debian package prometheus, script/bootstrap installs it): config, rules "
                   "and query syntax NOT checked", name="promtool")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
