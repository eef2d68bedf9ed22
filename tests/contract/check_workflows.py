#!/usr/bin/env python3
"""Lints the GitHub Actions workflows (.github/workflows) offline with action-validator.

Usage: check_workflows.py WORKFLOW_DIR VALIDATOR

VALIDATOR is tests/workflows/node_modules/.bin/action-validator (script/bootstrap installs it
with `npm ci`, as package-lock.json pins it). Each *.yml / *.yaml file is checked against
GitHub's workflow schema (SchemaStore's, built into the validator: no network): unknown or
misspelt keys, wrong types and values (permissions, concurrency, ...), steps with both `uses`
and `run`, `needs` naming no job, YAML syntax. Then our own rules:
 1. a top-level `permissions:` in every workflow (least privilege: a job widens it itself);
 2. every `uses:` of an action pinned to a tag or a commit (`@v4`, `@<sha>`), never a branch
    (`@main`, `@master`) or nothing.

Prints one line per failure and exits 1; exits 0 with a summary line. Without the validator
(or node): exits 77 (CTest SKIP_RETURN_CODE) saying what was not checked, or 1 in CI (CI=true),
where script/bootstrap must have installed it. 2 on bad usage.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

from contract_cli import bad_usage, listed

SKIP = 77
FLOATING = re.compile(r"@(main|master|HEAD|latest)?$")


def leaf_errors(errors, out):
    """The innermost (path: detail) of action-validator's nested oneOf errors."""
    for e in errors or []:
        if e.get("states"):
            for state in e["states"]:
                leaf_errors(state.get("errors"), out)
        else:
            out.add(f"{e.get('path') or '/'}: {e.get('detail') or e.get('title')}")


def validate(validator, path):
    proc = subprocess.run([validator, path], capture_output=True, text=True)
    if proc.returncode == 0:
        return []
    try:  # the report is JSON, on stderr
        report = json.loads(proc.stderr)
        found = set()
        leaf_errors(report.get("errors"), found)
        return sorted(found) or [proc.stderr.strip()]
    except json.JSONDecodeError:
        return [(proc.stdout + proc.stderr).strip() or f"exit {proc.returncode}"]


def version_of(validator):
    """The validator's version from its package.json (it has no --version option)."""
    package = os.path.join(os.path.dirname(os.path.realpath(validator)), "package.json")
    try:
        with open(package) as f:
            return json.load(f).get("version", "?")
    except (OSError, ValueError):
        return "?"


def own_rules(path):
    with open(path) as f:
        wf = yaml.safe_load(f) or {}
    failures = []
    if "permissions" not in wf:
        failures.append("no top-level permissions: (the token would get the repository's default)")
    for job_name, job in (wf.get("jobs") or {}).items():
        refs = [job.get("uses")] if job.get("uses") else []
        refs += [s.get("uses") for s in job.get("steps") or [] if s.get("uses")]
        for ref in refs:
            if ref.startswith(("./", "docker://")):
                continue
            if "@" not in ref or FLOATING.search(ref):
                failures.append(f"jobs.{job_name}: {ref} is not pinned to a tag or a commit")
    return failures


def main(argv):
    if bad_usage(__doc__, argv, (3,)):
        return 2
    workflow_dir, validator = argv[1], argv[2]
    files = sorted(glob.glob(os.path.join(workflow_dir, "*.yml")) + glob.glob(os.path.join(workflow_dir, "*.yaml")))
    if not files:
        print(f"{workflow_dir}: no workflow files")
        return 1
    missing = []
    if not os.access(validator, os.X_OK):
        missing.append(f"{validator} (script/bootstrap runs npm ci in tests/workflows)")
    if shutil.which("node") is None:
        missing.append("node (script/bootstrap installs nodejs)")
    failures = []
    for path in files:
        rel = os.path.relpath(path, os.path.dirname(os.path.dirname(workflow_dir.rstrip("/"))))
        failures += [f"{rel}: {f}" for f in own_rules(path)]
        if not missing:
            failures += [f"{rel}: {f}" for f in validate(validator, path)]
    if listed(failures, f"{workflow_dir}: "):
        return 1
    names = ", ".join(os.path.basename(f) for f in files)
    if missing:
        print(f"{workflow_dir}: {names}: permissions and pinned actions hold; NOT checked against the "
              f"workflow schema, missing: {'; '.join(missing)}")
        if os.environ.get("CI") == "true":
            print("CI=true: the schema check must run in CI: failing instead of skipping")
            return 1
        return SKIP
    print(f"{workflow_dir}: {names}: valid against GitHub's workflow schema (action-validator {version_of(validator)}), "
          "top-level permissions and pinned actions hold")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
