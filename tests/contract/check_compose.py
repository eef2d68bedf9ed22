#!/usr/bin/env python3
"""Holds compose.yaml to the Compose Specification and to our own rules.

Usage: check_compose.py COMPOSE_FILE SCHEMA_FILE

1. The file validates against the Compose Specification's JSON schema (Draft 7).
2. Every long-running service has a healthcheck of its own (not disabled, not NONE).
   One-shot services are exempt: those another service waits for with
   `condition: service_completed_successfully` (the migrations job, the topic init).
3. Every depends_on target is a service of the file.

Exits 0 when everything holds, 1 with one line per failure otherwise, 2 on bad usage.
Debian's python3 carries python3-jsonschema and python3-yaml (script/bootstrap installs them).
"""
import json
import sys

import jsonschema
import yaml


def depends_on(service):
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return deps


def one_shot_services(services):
    return {
        name
        for service in services.values()
        for name, dep in depends_on(service).items()
        if isinstance(dep, dict) and dep.get("condition") == "service_completed_successfully"
    }


def has_healthcheck(service):
    check = service.get("healthcheck")
    if not isinstance(check, dict) or check.get("disable") in (True, "true"):
        return False
    test = check.get("test")
    if not test:
        return False
    if isinstance(test, list):
        return test[0] != "NONE" and len(test) > 1
    return test.strip() != "NONE"


def check(compose, schema):
    failures = []
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        failures.append(f"schema: {where}: {error.message}")

    services = compose.get("services") if isinstance(compose, dict) else None
    if not isinstance(services, dict) or not services:
        failures.append("no services")
        return failures, set()
    one_shot = one_shot_services(services)
    for name, service in services.items():
        service = service or {}
        for dep in depends_on(service):
            if dep not in services:
                failures.append(f"{name}: depends on unknown service '{dep}'")
        if name not in one_shot and not has_healthcheck(service):
            failures.append(f"{name}: no healthcheck (only one-shot services may go without)")
    return failures, one_shot


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            compose = yaml.safe_load(f)
        with open(argv[2]) as f:
            schema = json.load(f)
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as e:
        print(f"cannot read input: {e}")
        return 1
    failures, one_shot = check(compose, schema)
    if failures:
        print(f"{argv[1]}: {len(failures)} problem(s)")
        for f in failures:
            print(f"  {f}")
        return 1
    services = compose["services"]
    print(f"{argv[1]}: valid; {len(services)} services, "
          f"healthchecks on all but the one-shot {', '.join(sorted(one_shot)) or '(none)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
