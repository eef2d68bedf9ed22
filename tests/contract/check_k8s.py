#!/usr/bin/env python3
"""Renders the Kubernetes manifests (deploy/k8s) with `kubectl kustomize` and holds them to our rules.

Usage: check_k8s.py K8S_DIR [CONFIG_DIR]

K8S_DIR is deploy/k8s: base/ and every overlays/*/ are rendered (never applied: no cluster).
CONFIG_DIR (default K8S_DIR/../config) holds the example configuration base/config must copy.

 1. Every Deployment, Job and CronJob pod template: each container (init containers too) has
    an image, resources.requests and .limits for cpu and memory, and the securityContext
    (pod or container level): runAsNonRoot, runAsUser 10001, seccompProfile RuntimeDefault;
    (container level) allowPrivilegeEscalation false, readOnlyRootFilesystem true,
    capabilities.drop [ALL].
 2. Every Deployment: startupProbe, livenessProbe and readinessProbe on each container, each
    on a port the container declares; terminationGracePeriodSeconds >= 30.
 3. Every object carries app.kubernetes.io/name, part-of and component (pod templates too).
 4. Every Deployment is selected by a PodDisruptionBudget.
 5. ScaledObjects: maxReplicaCount <= 6 (the partition count of splitvote.votes) and
    their target is a Deployment of the output.
 6. No Secret is rendered (secrets are created out of band, never committed), and no
    kustomization has a secretGenerator with literals.
 7. Secrets stay with their owner: splitvote-pollbook-key only in pollbook pods,
    splitvote-ballotbox-key only in ballotbox pods, splitvote-public-keys,
    splitvote-actor-secret and splitvote-ingest-db only in ingest pods, each consumer's
    splitvote-<store>-db in its consumer's and its scrub's, splitvote-migrate-db and
    splitvote-db-roles in the migrate Job's, splitvote-<service>-kafka in that service's.
 8. base/config/*.yaml are the same as CONFIG_DIR/*.yaml.
 9. No Secret reaches a container's environment (env valueFrom.secretKeyRef, envFrom
    secretRef): secrets are mounted files (the services read SPLITVOTE_<KEY>_FILE).
10. NetworkPolicies: one denies all ingress and egress to every pod of the namespace; every
    workload's pods are selected by another that allows them something (what they need); a
    policy that lets anything into pollbook or ballotbox pods allows port 9100 only.
11. Every overlay has an Ingress for splitvote-ingest with TLS (spec.tls, a host each).

Prints one line per failure and exits 1; exits 0 with a summary line; 2 on bad usage.
Without kubectl (not a Debian or npm package) nothing can be rendered: the base's own files are
checked as they are, without kustomize (rules 1, 2, 4 and 6-10; not the labels kustomize adds,
not the overlays, not rule 11), and it exits 77 (CTest SKIP_RETURN_CODE) saying loudly what
was not checked; 1 instead when SPLITVOTE_REQUIRED_TOOLS lists kubectl (ci.yml installs it).
"""
import filecmp
import glob
import os
import shutil
import subprocess
import sys

import yaml

from contract_cli import bad_usage, listed, skipped  # beside this script

PARTITIONS = 6
REQUIRED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/part-of", "app.kubernetes.io/component")
WORKLOADS = ("Deployment", "Job", "CronJob")
UID = 10001
# Secret name -> the only components whose pods may reference it.
PRIVATE_SECRETS = {
    "splitvote-pollbook-key": {"pollbook"},
    "splitvote-ballotbox-key": {"ballotbox"},
    "splitvote-public-keys": {"ingest"},
    "splitvote-actor-secret": {"ingest"},
    "splitvote-ingest-db": {"ingest"},
    "splitvote-pollbook-db": {"pollbook", "scrub"},
    "splitvote-ballotbox-db": {"ballotbox", "scrub"},
    "splitvote-migrate-db": {"migrate"},
    "splitvote-db-roles": {"migrate"},
    "splitvote-ingest-kafka": {"ingest"},
    "splitvote-pollbook-kafka": {"pollbook"},
    "splitvote-ballotbox-kafka": {"ballotbox"},
}
CONSUMERS = ("pollbook", "ballotbox")
METRICS_PORT = 9100
SKIP = 77


def render(directory):
    """(documents, error) of `kubectl kustomize directory`."""
    proc = subprocess.run(["kubectl", "kustomize", directory], capture_output=True, text=True)
    if proc.returncode != 0:
        return None, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
    try:
        return [d for d in yaml.safe_load_all(proc.stdout) if d], None
    except yaml.YAMLError as e:
        return None, f"output is not YAML: {e}"


def name_of(obj):
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def pod_template(obj):
    spec = obj.get("spec") or {}
    if obj["kind"] == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return spec.get("template") or {}


def containers(pod_spec):
    return [("initContainer", c) for c in pod_spec.get("initContainers") or []] + \
           [("container", c) for c in pod_spec.get("containers") or []]


def effective(pod_sc, c_sc, key):
    """A container's securityContext field, falling back to the pod's."""
    return c_sc[key] if key in c_sc else pod_sc.get(key)


def check_container(where, pod_spec, kind, c):
    failures = []
    cname = f"{where} {kind} {c.get('name')}"
    if not c.get("image"):
        failures.append(f"{cname}: no image")
    res = c.get("resources") or {}
    for part in ("requests", "limits"):
        for r in ("cpu", "memory"):
            if not (res.get(part) or {}).get(r):
                failures.append(f"{cname}: no resources.{part}.{r}")
    pod_sc = pod_spec.get("securityContext") or {}
    c_sc = c.get("securityContext") or {}
    if effective(pod_sc, c_sc, "runAsNonRoot") is not True:
        failures.append(f"{cname}: runAsNonRoot is not true")
    if effective(pod_sc, c_sc, "runAsUser") != UID:
        failures.append(f"{cname}: runAsUser is not {UID}")
    if ((effective(pod_sc, c_sc, "seccompProfile") or {}).get("type")) != "RuntimeDefault":
        failures.append(f"{cname}: seccompProfile is not RuntimeDefault")
    if c_sc.get("allowPrivilegeEscalation") is not False:
        failures.append(f"{cname}: allowPrivilegeEscalation is not false")
    if c_sc.get("readOnlyRootFilesystem") is not True:
        failures.append(f"{cname}: readOnlyRootFilesystem is not true")
    if "ALL" not in ((c_sc.get("capabilities") or {}).get("drop") or []):
        failures.append(f"{cname}: capabilities.drop does not hold ALL")
    return failures


def check_probes(where, pod_spec):
    failures = []
    for c in pod_spec.get("containers") or []:
        ports = set()
        for p in c.get("ports") or []:
            ports.add(p.get("containerPort"))
            if p.get("name"):
                ports.add(p["name"])
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            spec = c.get(probe)
            if not spec:
                failures.append(f"{where} container {c.get('name')}: no {probe}")
                continue
            port = (spec.get("httpGet") or spec.get("tcpSocket") or spec.get("grpc") or {}).get("port")
            if port is not None and port not in ports:
                failures.append(f"{where} container {c.get('name')}: {probe} on port {port}, "
                                "which the container does not declare")
    grace = pod_spec.get("terminationGracePeriodSeconds")
    if grace is None or grace < 30:
        failures.append(f"{where}: terminationGracePeriodSeconds {grace} (at least 30: the services drain for up to 20 s)")
    return failures


def secret_refs(pod_spec):
    refs = set()
    for v in pod_spec.get("volumes") or []:
        if v.get("secret"):
            refs.add(v["secret"].get("secretName"))
        for src in (v.get("projected") or {}).get("sources") or []:
            if src.get("secret"):
                refs.add(src["secret"].get("name"))
    for _, c in containers(pod_spec):
        for e in c.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                refs.add(ref.get("name"))
        for e in c.get("envFrom") or []:
            if e.get("secretRef"):
                refs.add(e["secretRef"].get("name"))
    return refs


def selects(selector, labels):
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items()) \
        and not (selector or {}).get("matchExpressions")


def secrets_in_env(where, pod_spec):
    failures = []
    for kind, c in containers(pod_spec):
        for e in c.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                failures.append(f"{where} {kind} {c.get('name')}: env {e.get('name')} comes from Secret "
                                f"{ref.get('name')}; mount it as a file (SPLITVOTE_<KEY>_FILE)")
        for e in c.get("envFrom") or []:
            if e.get("secretRef"):
                failures.append(f"{where} {kind} {c.get('name')}: envFrom Secret {e['secretRef'].get('name')}; "
                                "mount it as a file")
    return failures


def matches(selector, labels):
    """Whether a label selector (matchLabels and matchExpressions) selects `labels`; {} selects all."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        ok = {"In": key in labels and labels[key] in values,
              "NotIn": key not in labels or labels[key] not in values,
              "Exists": key in labels,
              "DoesNotExist": key not in labels}.get(op, False)
        if not ok:
            return False
    return True


def check_network_policies(policies, workloads):
    failures = []
    deny_all = [p for p in policies
                if (p.get("spec") or {}).get("podSelector") in ({}, None)
                and set((p.get("spec") or {}).get("policyTypes") or []) == {"Ingress", "Egress"}
                and not (p.get("spec") or {}).get("ingress") and not (p.get("spec") or {}).get("egress")]
    if not deny_all:
        failures.append("no NetworkPolicy denies all ingress and egress (podSelector {}, both policyTypes, no rules)")
    others = [p for p in policies if p not in deny_all]
    for where, labels in workloads.items():
        if not any(matches((p.get("spec") or {}).get("podSelector"), labels) for p in others):
            failures.append(f"{where}: no NetworkPolicy but the default deny selects its pods (it could reach nothing)")
    for p in others:
        spec = p.get("spec") or {}
        consumers = [w for w, labels in workloads.items()
                     if labels.get("app.kubernetes.io/component") in CONSUMERS
                     and matches(spec.get("podSelector"), labels)]
        if not consumers:
            continue
        for rule in spec.get("ingress") or []:
            ports = [port.get("port") for port in rule.get("ports") or []]
            if not ports or any(port not in (METRICS_PORT, "metrics") for port in ports):
                failures.append(f"{name_of(p)}: lets {ports or 'every port'} into {', '.join(consumers)} "
                                f"(only {METRICS_PORT}, the metrics scraper's, may be)")
    return failures


def check_ingress(docs):
    for obj in docs:
        if obj["kind"] != "Ingress":
            continue
        spec = obj.get("spec") or {}
        backends = [((path.get("backend") or {}).get("service") or {}).get("name")
                    for rule in spec.get("rules") or [] for path in ((rule.get("http") or {}).get("paths") or [])]
        if "splitvote-ingest" in backends and spec.get("tls") and all(t.get("hosts") for t in spec["tls"]):
            return []
    return ["no Ingress with TLS (spec.tls with hosts) in front of Service splitvote-ingest"]


def base_files(k8s_dir):
    """The base's resources as written (no kustomize): what can be checked without kubectl."""
    base = os.path.join(k8s_dir, "base")
    with open(os.path.join(base, "kustomization.yaml")) as f:
        k = yaml.safe_load(f) or {}
    docs = []
    for resource in k.get("resources") or []:
        with open(os.path.join(base, resource)) as f:
            docs += [d for d in yaml.safe_load_all(f) if d]
    return docs


def check_documents(docs, labels=True):
    failures = []
    deployments = {}
    workloads = {}
    pdbs = []
    for obj in docs:
        where = name_of(obj)
        obj_labels = (obj.get("metadata") or {}).get("labels") or {}
        for label in REQUIRED_LABELS if labels else ():
            if not obj_labels.get(label):
                failures.append(f"{where}: no label {label}")
        if obj["kind"] == "Secret":
            failures.append(f"{where}: a Secret is rendered (its values would be committed); "
                            "reference a Secret created out of band instead")
        if obj["kind"] == "PodDisruptionBudget":
            pdbs.append(obj)
        if obj["kind"] == "ScaledObject":
            spec = obj.get("spec") or {}
            top = spec.get("maxReplicaCount")
            if top is None or top > PARTITIONS:
                failures.append(f"{where}: maxReplicaCount {top} (at most {PARTITIONS}, the partition count)")
            target = (spec.get("scaleTargetRef") or {}).get("name")
            if target not in [ (d.get("metadata") or {}).get("name") for d in docs if d["kind"] == "Deployment"]:
                failures.append(f"{where}: scales {target}, which is no Deployment here")
        if obj["kind"] not in WORKLOADS:
            continue
        template = pod_template(obj)
        pod_labels = (template.get("metadata") or {}).get("labels") or {}
        if not labels:  # what the base's kustomization adds to every pod template
            pod_labels = dict(pod_labels, **{"app.kubernetes.io/name": "splitvote", "app.kubernetes.io/part-of": "splitvote"})
        for label in REQUIRED_LABELS:
            if not pod_labels.get(label):
                failures.append(f"{where}: pod template has no label {label}")
        pod_spec = template.get("spec") or {}
        if not pod_spec.get("containers"):
            failures.append(f"{where}: no containers")
        for kind, c in containers(pod_spec):
            failures += check_container(where, pod_spec, kind, c)
        if obj["kind"] == "Deployment":
            deployments[where] = pod_labels
            failures += check_probes(where, pod_spec)
        component = pod_labels.get("app.kubernetes.io/component")
        for secret in sorted(r for r in secret_refs(pod_spec) if r in PRIVATE_SECRETS):
            if component not in PRIVATE_SECRETS[secret]:
                failures.append(f"{where} (component {component}): references Secret {secret}, "
                                f"which only {' and '.join(sorted(PRIVATE_SECRETS[secret]))} may")
        failures += secrets_in_env(where, pod_spec)
        workloads[where] = pod_labels
    for where, pod_labels in deployments.items():
        if not any(selects((p.get("spec") or {}).get("selector"), pod_labels) for p in pdbs):
            failures.append(f"{where}: no PodDisruptionBudget selects its pods")
    failures += check_network_policies([d for d in docs if d["kind"] == "NetworkPolicy"], workloads)
    return failures, deployments


def check_sources(k8s_dir, config_dir):
    failures = []
    for path in sorted(glob.glob(os.path.join(k8s_dir, "**", "kustomization.y*ml"), recursive=True)):
        with open(path) as f:
            k = yaml.safe_load(f) or {}
        for gen in k.get("secretGenerator") or []:
            if gen.get("literals"):
                failures.append(f"{os.path.relpath(path, k8s_dir)}: secretGenerator {gen.get('name')} "
                                "has literals (a committed secret)")
    base_config = os.path.join(k8s_dir, "base", "config")
    for path in sorted(glob.glob(os.path.join(config_dir, "*.yaml"))):
        copy = os.path.join(base_config, os.path.basename(path))
        if not os.path.exists(copy):
            failures.append(f"base/config: no copy of {os.path.basename(path)}")
        elif not filecmp.cmp(path, copy, shallow=False):
            failures.append(f"base/config/{os.path.basename(path)}: differs from {path} (copy it again)")
    return failures


def main(argv):
    if bad_usage(__doc__, argv, (2, 3)):
        return 2
    k8s_dir = os.path.abspath(argv[1])
    config_dir = os.path.abspath(argv[2]) if len(argv) == 3 else os.path.join(k8s_dir, "..", "config")
    if shutil.which("kubectl") is None:
        failures = check_sources(k8s_dir, config_dir)
        found, deployments = check_documents(base_files(k8s_dir), labels=False)
        failures += [f"base (files, not rendered): {f}" for f in found]
        if listed(failures, f"{k8s_dir}: "):
            return 1
        print(f"{k8s_dir}: base's files as written ({len(deployments)} Deployments): securityContext, resources, "
              "probes, PDBs, no committed Secret, secret isolation, no Secret in env, NetworkPolicies hold")
        overlays = ", ".join(sorted(os.path.basename(d.rstrip("/")) for d in glob.glob(os.path.join(k8s_dir, "overlays", "*", ""))))
        return skipped("kubectl", f"nothing was rendered with kustomize: the overlays ({overlays}) and their "
                       "patches, generators, labels and TLS Ingress were NOT checked")
    targets = [os.path.join(k8s_dir, "base")] + \
        sorted(d.rstrip("/") for d in glob.glob(os.path.join(k8s_dir, "overlays", "*", "")))
    failures = check_sources(k8s_dir, config_dir)
    summary = []
    for target in targets:
        rel = os.path.relpath(target, k8s_dir)
        docs, error = render(target)
        if docs is None:
            failures.append(f"{rel}: kubectl kustomize failed: {error}")
            continue
        found, deployments = check_documents(docs)
        if rel.startswith("overlays"):
            found += check_ingress(docs)
        failures += [f"{rel}: {f}" for f in found]
        kinds = {}
        for d in docs:
            kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
        summary.append(f"{rel} ({len(docs)} objects, {len(deployments)} Deployments, "
                       f"{kinds.get('ScaledObject', 0)} ScaledObjects, {kinds.get('NetworkPolicy', 0)} NetworkPolicies)")
    if listed(failures, f"{k8s_dir}: "):
        return 1
    print(f"{k8s_dir}: rendered and checked {', '.join(summary)}: probes, resources, "
          "securityContext, labels, PDBs, ScaledObject caps, no committed Secret, secret isolation, no Secret "
          "in env, NetworkPolicies, TLS Ingress hold")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
