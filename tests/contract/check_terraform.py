#!/usr/bin/env python3
"""Holds the Terraform of deploy/aws to its format and to our rules, without AWS or the provider.

Usage: check_terraform.py TERRAFORM_DIR

Checks (nothing is planned or applied: the hashicorp/aws provider cannot be downloaded here,
so `terraform validate` cannot run; see deploy/aws/README.md):

1. `terraform fmt -check -recursive` passes, and `terraform providers` loads the module
   (HCL syntax, duplicate blocks, block structure Terraform itself knows).
2. References: every var.X is a declared variable and every declared variable is used;
   every local.X, data.T.N and aws_T.N (resources) is declared. Every variable and output
   has a description.
3. No secret in the files: no literal value for an attribute whose name says password or
   secret, no master_password at all, no Secrets Manager secret version, no AWS access key
   id or private key block.
4. The privacy and transport rules of the design: at least two Aurora clusters (for_each
   keys counted), each with storage_encrypted = true and manage_master_user_password = true;
   every Aurora instance publicly_accessible = false; MSK client_broker = "TLS" and
   in_cluster = true, with log.retention.ms in its configuration; every HTTP listener only
   redirects to HTTPS; every HTTPS listener has a certificate and an ELBSecurityPolicy-TLS13
   policy (literally or through var.tls_policy, whose default and validation must say so).

Prints one line per failure and exits 1; exits 0 with a summary line; exits 77 (CTest
SKIP_RETURN_CODE) when the checks that need no terraform held but terraform is not
installed (it is not a Debian or npm package), saying loudly what was not run; 1 instead when
SPLITVOTE_REQUIRED_TOOLS lists terraform (ci.yml installs it); 2 on bad usage.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

from contract_cli import bad_usage, listed, verdict  # beside this script

IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
BLOCK_START = re.compile(rf'^(resource|data|variable|output|locals)\b\s*(?:"({IDENT})"\s*)?(?:"({IDENT})"\s*)?\{{', re.M)
SENSITIVE_ATTR = re.compile(r"^\s*([A-Za-z0-9_]*(?:password|secret)[A-Za-z0-9_]*)\s*=\s*(.+)$", re.I | re.M)
# Attributes that name a password's handling, not the password.
SENSITIVE_OK = {"manage_master_user_password", "master_user_secret_kms_key_id"}


def strip_comments(text):
    """text without # // and /* */ comments; strings and heredocs kept as they are."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("<<", i):
            m = re.match(r"<<-?([A-Za-z_]+)\n", text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = re.compile(rf"^\s*{m.group(1)}\s*$", re.M).search(text, i + m.end())
            j = end.end() if end else n
            out.append(text[i:j])
            i = j
        elif c == "#" or text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def blocks(text):
    """(kind, label1, label2, body) of each top-level block."""
    for m in BLOCK_START.finditer(text):
        depth, j = 1, m.end()
        in_string = False
        while j < len(text) and depth:
            c = text[j]
            if in_string:
                if c == "\\":
                    j += 1
                elif c == '"':
                    in_string = False
            elif c == '"':
                in_string = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            j += 1
        yield m.group(1), m.group(2), m.group(3), text[m.end():j - 1]


def attribute(body, name):
    """The value text of the first `name = value` line of a block body, or None."""
    m = re.search(rf"^\s*{name}\s*=\s*(.+?)\s*$", body, re.M)
    return m.group(1) if m else None


def nested(body, name):
    out = []
    for m in re.finditer(rf"^\s*{name}\s*\{{", body, re.M):
        depth, j = 1, m.end()
        while j < len(body) and depth:
            depth += {"{": 1, "}": -1}.get(body[j], 0)
            j += 1
        out.append(body[m.end():j - 1])
    return out


def map_keys(body, name):
    """Top-level keys of the map literal `name = { key = ..., ... }` inside a locals body."""
    m = re.search(rf"^\s*{name}\s*=\s*\{{", body, re.M)
    if not m:
        return []
    depth, j, keys, line_start = 1, m.end(), [], False
    while j < len(body) and depth:
        c = body[j]
        if depth == 1 and line_start:
            k = re.match(rf"\s*({IDENT}|\"[^\"]+\")\s*=", body[j:])
            if k:
                keys.append(k.group(1).strip('"'))
        line_start = c == "\n"
        depth += {"{": 1, "}": -1}.get(c, 0)
        j += 1
    return keys


def main(argv):
    if bad_usage(__doc__, argv, (2,)):
        return 2
    directory = argv[1]
    paths = sorted(glob.glob(os.path.join(directory, "**", "*.tf"), recursive=True))
    if not paths:
        print(f"{directory}: no .tf files")
        return 1
    failures = []
    raw, text = {}, {}
    for path in paths:
        with open(path) as f:
            raw[path] = f.read()
        text[path] = strip_comments(raw[path])
    rel = {p: os.path.relpath(p, directory) for p in paths}

    declared = {"variable": {}, "output": {}, "resource": {}, "data": {}, "local": set()}
    all_blocks = []
    for path in paths:
        for kind, a, b, body in blocks(text[path]):
            all_blocks.append((path, kind, a, b, body))
            if kind == "variable":
                declared["variable"][a] = body
            elif kind == "output":
                declared["output"][a] = body
            elif kind == "resource":
                declared["resource"][f"{a}.{b}"] = body
            elif kind == "data":
                declared["data"][f"{a}.{b}"] = body
            elif kind == "locals":
                declared["local"].update(re.findall(rf"^\s{{2}}({IDENT})\s*=", body, re.M))

    # 2. References.
    used_vars = set()
    for path in paths:
        t = text[path]
        for m in re.finditer(rf"\bvar\.({IDENT})", t):
            used_vars.add(m.group(1))
            if m.group(1) not in declared["variable"]:
                failures.append(f"{rel[path]}: var.{m.group(1)} is not declared (variables.tf)")
        for m in re.finditer(rf"\blocal\.({IDENT})", t):
            if m.group(1) not in declared["local"]:
                failures.append(f"{rel[path]}: local.{m.group(1)} is not declared")
        for m in re.finditer(rf"\bdata\.({IDENT})\.({IDENT})", t):
            if f"{m.group(1)}.{m.group(2)}" not in declared["data"]:
                failures.append(f"{rel[path]}: data.{m.group(1)}.{m.group(2)} is not declared")
        for m in re.finditer(rf"(?<![\w.\"/:-])(aws_[a-z0-9_]+)\.({IDENT})", t):
            if f"{m.group(1)}.{m.group(2)}" not in declared["resource"]:
                failures.append(f"{rel[path]}: {m.group(1)}.{m.group(2)} is not declared")
    for name in sorted(set(declared["variable"]) - used_vars):
        failures.append(f"variable {name} is declared but never used")
    for kind in ("variable", "output"):
        for name, body in declared[kind].items():
            if not attribute(body, "description"):
                failures.append(f"{kind} {name} has no description")

    # 3. Secrets.
    for path in paths:
        t = text[path]
        for m in SENSITIVE_ATTR.finditer(t):
            name, value = m.group(1), m.group(2).strip()
            if name in SENSITIVE_OK:
                continue
            if name == "master_password" or name.startswith("master_password"):
                failures.append(f"{rel[path]}: {name}: let RDS keep the password (manage_master_user_password)")
            elif re.match(r'^"[^"$]*"$', value) and value != '""':
                failures.append(f"{rel[path]}: {name} has a literal value")
        if re.search(r'resource\s+"aws_secretsmanager_secret_version"', t):
            failures.append(f"{rel[path]}: aws_secretsmanager_secret_version puts a secret in the state and the repository")
        if re.search(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", raw[path]):
            failures.append(f"{rel[path]}: an AWS access key id")
        if re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", raw[path]):
            failures.append(f"{rel[path]}: a private key")

    # 4. Design rules.
    def resources(rtype):
        return [(p, b, body) for p, kind, a, b, body in all_blocks if kind == "resource" and a == rtype]

    locals_bodies = [body for _, kind, _, _, body in all_blocks if kind == "locals"]
    clusters = 0
    for path, name, body in resources("aws_rds_cluster"):
        where = f"{rel[path]}: aws_rds_cluster.{name}"
        for_each = attribute(body, "for_each")
        if for_each:
            m = re.match(rf"local\.({IDENT})$", for_each)
            keys = [k for lb in locals_bodies for k in map_keys(lb, m.group(1))] if m else []
            if not keys:
                failures.append(f"{where}: for_each {for_each}: cannot count its clusters (use a local map literal)")
            clusters += len(keys)
        else:
            clusters += 1
        if attribute(body, "storage_encrypted") != "true":
            failures.append(f"{where}: storage_encrypted must be true")
        if attribute(body, "manage_master_user_password") != "true":
            failures.append(f"{where}: manage_master_user_password must be true (the password in Secrets Manager)")
    if clusters < 2:
        failures.append(f"{clusters} Aurora cluster(s): the ballotbox needs a cluster of its own "
                        "(transaction ids are cluster-wide, DESIGN section 4)")
    for path, name, body in resources("aws_rds_cluster_instance"):
        if attribute(body, "publicly_accessible") != "false":
            failures.append(f"{rel[path]}: aws_rds_cluster_instance.{name}: publicly_accessible must be false")
    for path, name, body in resources("aws_msk_cluster"):
        transit = nested(body, "encryption_in_transit")
        if not transit or attribute(transit[0], "client_broker") != '"TLS"' or attribute(transit[0], "in_cluster") != "true":
            failures.append(f"{rel[path]}: aws_msk_cluster.{name}: encryption_in_transit must be client_broker = \"TLS\", in_cluster = true")
    msk_configs = resources("aws_msk_configuration")
    if resources("aws_msk_cluster") and not any("log.retention.ms=" in body for _, _, body in msk_configs):
        failures.append("no aws_msk_configuration sets log.retention.ms (the topic's short retention)")
    tls_policy = declared["variable"].get("tls_policy", "")
    for path, name, body in resources("aws_lb_listener"):
        where = f"{rel[path]}: aws_lb_listener.{name}"
        protocol = attribute(body, "protocol")
        if protocol == '"HTTP"':
            actions = nested(body, "default_action")
            redirects = [r for a in actions for r in nested(a, "redirect")]
            if len(actions) != 1 or attribute(actions[0], "type") != '"redirect"' or not redirects \
                    or attribute(redirects[0], "protocol") != '"HTTPS"':
                failures.append(f"{where}: an HTTP listener must only redirect to HTTPS")
            rules = [r for p, r, rb in resources("aws_lb_listener_rule")
                     if attribute(rb, "listener_arn") == f"aws_lb_listener.{name}.arn"]
            if rules:
                failures.append(f"{where}: listener rules on the HTTP listener ({', '.join(rules)}) would serve over HTTP")
        elif protocol == '"HTTPS"':
            policy = attribute(body, "ssl_policy") or ""
            if not attribute(body, "certificate_arn"):
                failures.append(f"{where}: no certificate_arn")
            if policy == "var.tls_policy":
                if '"ELBSecurityPolicy-TLS13-' not in (attribute(tls_policy, "default") or "") \
                        or "ELBSecurityPolicy-TLS13-" not in tls_policy:
                    failures.append("variable tls_policy: default and validation must be ELBSecurityPolicy-TLS13-*")
            elif not policy.startswith('"ELBSecurityPolicy-TLS13-'):
                failures.append(f"{where}: ssl_policy {policy or '(none)'}: use an ELBSecurityPolicy-TLS13-* policy")
        else:
            failures.append(f"{where}: protocol {protocol}: only HTTPS, and HTTP redirecting to it")

    # 1. Terraform itself.
    terraform = shutil.which("terraform")
    if terraform:
        env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
        proc = subprocess.run([terraform, "fmt", "-check", "-recursive", "-diff", "-no-color", directory],
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            failures.append("terraform fmt -check -recursive: not formatted (run terraform fmt -recursive):")
            failures += [f"  {line}" for line in proc.stdout.splitlines() if line.strip()]
        proc = subprocess.run([terraform, f"-chdir={directory}", "providers", "-no-color"],
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            errors = [line for line in proc.stderr.splitlines() if line.startswith("Error") or line.startswith("  on ")]
            failures.append("terraform providers: the module does not load:")
            failures += [f"  {line}" for line in errors or proc.stderr.splitlines()]

    if listed(failures, f"{directory}: "):
        return 1
    summary = (f"{directory}: {len(paths)} files, {len(declared['variable'])} variables (all used, all "
               f"described), {len(declared['resource'])} resources, {clusters} Aurora clusters; "
               "references, secrets and design rules hold")
    return verdict(summary, terraform, "terraform fmt and module loading pass (validate needs the provider: not run)",
                   "terraform fmt -check and module loading (terraform providers) were NOT run; the checks above "
                   "(references, secrets, design rules) were", name="terraform")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
