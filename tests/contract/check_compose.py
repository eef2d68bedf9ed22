#!/usr/bin/env python3
"""Holds compose.yaml to the Compose Specification and to our own rules.

Usage: check_compose.py COMPOSE_FILE SCHEMA_FILE [OVERRIDE_FILE...]

1. The file validates against the Compose Specification's JSON schema (Draft 7).
2. Every long-running service has a healthcheck of its own (not disabled, not NONE).
   One-shot services are exempt: those another service waits for with
   `condition: service_completed_successfully` (the migrations job, the topic init).
3. Every depends_on target is a service of the file.
4. Database roles: no long-running service connects as the superuser `postgres` (a *DSN*
   variable naming that user, or PGUSER=postgres); only one-shot jobs may. A long-running
   service's DSN names its role literally.
5. Secrets are files, never environment variables: no interpolation of a variable whose name
   contains PASSWORD or SECRET anywhere; every environment variable named *PASSWORD*,
   *SECRET* or *DSN* (file paths *_KEY on a volume aside) is a *_FILE naming
   /run/secrets/NAME, where NAME is in the service's `secrets:` and declared at the top level
   with a file under ./secrets/; the declared secrets are exactly the files
   script/compose-secrets makes (run here into a temporary directory), and rule 4 reads the
   DSNs in those files.
6. Sealing: ingest sets SPLITVOTE_SEAL__POLLBOOK_PUBLIC_KEY and ..._BALLOTBOX_PUBLIC_KEY; the
   pollbook and ballotbox services set SPLITVOTE_SEAL__SECRET_KEY to a file on a volume,
   mounted read-only, and no other service mounts that volume except a one-shot job running
   splitvote-keygen.
7. `.env.example`, next to the compose file, lists (NAME=, possibly commented out) every
   variable the compose file uses, and gives no secret (PASSWORD/SECRET) a value.

8. Each OVERRIDE_FILE (deploy/compose/local.yaml, tests/compose/*.yaml) validates against the
   schema too, names only services of the compose file, and sets no list where the compose
   file has one for the same key (podman-compose 1.0.3 appends an override's lists to the
   base's instead of replacing them, so such an override would not mean what it says), nor a
   value of another kind (list, string, mapping) than the compose file's (it cannot merge them).

Exits 0 when everything holds, 1 with one line per failure otherwise, 2 on bad usage.
Debian's python3 carries python3-jsonschema and python3-yaml (script/bootstrap installs them).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import yaml

from contract_cli import bad_usage, listed  # beside this script

SENSITIVE = re.compile(r"PASSWORD|SECRET", re.IGNORECASE)
# Environment variables that hold a file's path, not the secret itself (SPLITVOTE_SEAL__SECRET_KEY).
PATH_VALUED = re.compile(r"(_KEY|_FILE)$", re.IGNORECASE)
CONSUMERS = ("pollbook", "ballotbox")
INGEST = "ingest"
PUBLIC_KEY_VARS = ("SPLITVOTE_SEAL__POLLBOOK_PUBLIC_KEY", "SPLITVOTE_SEAL__BALLOTBOX_PUBLIC_KEY")
SECRET_KEY_VAR = "SPLITVOTE_SEAL__SECRET_KEY"
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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


def interpolations(text):
    """Yields (name, operator, argument) for each ${NAME...} or $NAME in a compose string
    ($$ is a literal $). operator is '', ':-', '-', ':?', '?', ':+' or '+'; nested
    interpolations in the argument are yielded too."""
    i = 0
    while i < len(text):
        if text[i] != "$":
            i += 1
            continue
        if text.startswith("$$", i):
            i += 2
            continue
        if text.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                if text.startswith("$$", j):
                    j += 2
                    continue
                if text.startswith("${", j):
                    depth, j = depth + 1, j + 2
                    continue
                if text[j] == "}":
                    depth -= 1
                j += 1
            body = text[i + 2:j - 1] if depth == 0 else text[i + 2:]
            m = NAME.match(body)
            if m:
                rest = body[m.end():]
                op = next((o for o in (":-", ":?", ":+", "-", "?", "+") if rest.startswith(o)), "")
                arg = rest[len(op):]
                yield m.group(0), op, arg
                yield from interpolations(arg)
            i = j
            continue
        m = NAME.match(text, i + 1)
        if m:
            yield m.group(0), "", ""
            i = m.end()
        else:
            i += 1


def without_interpolations(text, placeholder="X"):
    """text with every ${...} / $NAME replaced by placeholder ($$ becomes $)."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                if text.startswith("${", j):
                    depth += 1
                    j += 1
                elif text[j] == "}":
                    depth -= 1
                j += 1
            out.append(placeholder)
            i = j
        elif text[i] == "$" and NAME.match(text, i + 1):
            out.append(placeholder)
            i = NAME.match(text, i + 1).end()
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def strings(node, path=()):
    """Every string value of the document, with its path (aliases appear at each use)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, path + (str(key),))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from strings(value, path + (str(n),))
    elif isinstance(node, str):
        yield "/".join(path), node


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, None) for item in env)
        env = dict(pairs)
    return {k: ("" if v is None else str(v)) for k, v in env.items()}


def dsn_users(dsn):
    """(users, from_variable, literal_password) of a libpq connection string (URI or
    key=value): the user names it gives, whether one of them comes from a variable, and its
    password when that is written out rather than interpolated (else None)."""
    MARK = "\x01"  # stands for an interpolation, whatever characters its message holds
    text = without_interpolations(dsn, MARK)
    pairs = []  # (key, value) for user and password
    if re.match(r"postgres(ql)?://", text):
        rest = text.split("://", 1)[1]
        authority = re.split(r"[/?]", rest, maxsplit=1)[0]
        userinfo = authority.rpartition("@")[0]
        user, has_password, password = userinfo.partition(":")
        if user:
            pairs.append(("user", user))
        if has_password:
            pairs.append(("password", password))
        query = rest.split("?", 1)[1] if "?" in rest else ""
        pairs += [tuple(kv.split("=", 1)) for kv in query.split("&") if "=" in kv]
    else:
        pairs = [(m.group(1), m.group(2).strip("'"))
                 for m in re.finditer(r"(?:^|\s)(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", text)]
    users = [v for k, v in pairs if k == "user" and v]
    passwords = [v for k, v in pairs if k == "password" and v and MARK not in v]
    return users, any(MARK in u for u in users), (passwords[0] if passwords else None)


def mounts(service):
    """(source, target, read_only) of each volume entry (source None for an anonymous one)."""
    out = []
    for v in service.get("volumes") or []:
        if isinstance(v, dict):
            out.append((v.get("source"), str(v.get("target", "")), bool(v.get("read_only"))))
            continue
        parts = str(v).split(":")
        if len(parts) == 1:
            out.append((None, parts[0], False))
        else:
            mode = parts[2].split(",") if len(parts) > 2 else []
            out.append((parts[0], parts[1], "ro" in mode))
    return out


def mount_of(service, path):
    """The mount of service that holds path (the longest target that is a prefix of it)."""
    best = None
    for source, target, read_only in mounts(service):
        t = target.rstrip("/")
        if (path == t or path.startswith(t + "/")) and (best is None or len(t) > len(best[1])):
            best = (source, t, read_only)
    return best


def runs_keygen(service):
    words = []
    for key in ("entrypoint", "command"):
        value = service.get(key)
        words += value if isinstance(value, list) else [value or ""]
    return any("splitvote-keygen" in str(w) for w in words)


SECRETS_MOUNT = "/run/secrets/"


def generated_secrets(compose_path):
    """NAME -> content of each file script/compose-secrets makes (in a temporary directory)."""
    root = os.path.dirname(os.path.abspath(compose_path))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "secrets")
        env = {k: v for k, v in os.environ.items() if not SENSITIVE.search(k)}
        proc = subprocess.run([os.path.join(root, "script", "compose-secrets"), out], env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"script/compose-secrets failed: {proc.stderr.strip()}")
        made = {}
        for name in os.listdir(out):
            with open(os.path.join(out, name)) as f:
                made[name] = f.read()
        return made


def check_roles(services, one_shot, secrets):
    failures = []
    for name, service in services.items():
        if name in one_shot:
            continue
        env = environment(service or {})
        if env.get("PGUSER") == "postgres":
            failures.append(f"{name}: PGUSER=postgres (only one-shot jobs may connect as the superuser)")
        for key, value in env.items():
            if "DSN" not in key.upper() or not value:
                continue
            if key.upper().endswith("_FILE"):  # the DSN is in a secret file (rule 5 checks the path)
                if not value.startswith(SECRETS_MOUNT) or value[len(SECRETS_MOUNT):] not in secrets:
                    continue
                key, value = f"{key} ({value})", secrets[value[len(SECRETS_MOUNT):]]
            users, from_variable, _ = dsn_users(value)
            if "postgres" in users:
                failures.append(f"{name}: {key} connects as the superuser 'postgres' "
                                "(only one-shot jobs may; use the service's own role)")
            elif from_variable:
                failures.append(f"{name}: {key} takes its user from a variable; name the role literally")
            elif not users:
                failures.append(f"{name}: {key} names no user; name the service's own role")
    return failures


def service_secrets(service):
    out = []
    for entry in service.get("secrets") or []:
        out.append(entry if isinstance(entry, str) else (entry or {}).get("source"))
    return out


def check_secrets(compose, services, generated):
    failures, seen = [], set()
    for path, text in strings(compose):
        for var, _, _ in interpolations(text):
            if SENSITIVE.search(var) and var not in seen:
                seen.add(var)
                failures.append(f"{path}: ${{{var}}}: a secret from a variable reaches the environment; "
                                "use a file of the top-level secrets:")
    declared = compose.get("secrets") or {}
    for secret, spec in declared.items():
        source = str((spec or {}).get("file", ""))
        if not source.startswith("./secrets/") or source != f"./secrets/{secret}":
            failures.append(f"secrets.{secret}: file {source or '(none)'}, not ./secrets/{secret}")
    if set(declared) != set(generated):
        if set(declared) - set(generated):
            failures.append(f"secrets: script/compose-secrets makes no {', '.join(sorted(set(declared) - set(generated)))}")
        if set(generated) - set(declared):
            failures.append(f"secrets: script/compose-secrets makes {', '.join(sorted(set(generated) - set(declared)))}, "
                            "which compose.yaml does not declare")
    for name, service in services.items():
        service = service or {}
        mine = service_secrets(service)
        for secret in mine:
            if secret not in declared:
                failures.append(f"{name}: secrets: {secret} is not declared at the top level")
        for key, value in environment(service).items():
            is_secret = (SENSITIVE.search(key) and not PATH_VALUED.search(key)) or "DSN" in key.upper()
            if not is_secret and not (key.upper().endswith("_FILE") and SENSITIVE.search(key)):
                continue
            if not key.upper().endswith("_FILE"):
                failures.append(f"{name}: {key} is a secret in the environment; use {key}_FILE and a secrets: file")
            elif not value.startswith(SECRETS_MOUNT) or value[len(SECRETS_MOUNT):] not in mine:
                failures.append(f"{name}: {key} is {value!r}, not /run/secrets/NAME of a secret the service lists")
    return failures


def check_sealing(services, one_shot):
    failures = []
    ingest = services.get(INGEST)
    if not isinstance(ingest, dict):
        failures.append(f"no '{INGEST}' service (it must seal envelope halves)")
    else:
        env = environment(ingest)
        for var in PUBLIC_KEY_VARS:
            if not env.get(var):
                failures.append(f"{INGEST}: {var} not set (envelope halves would travel in the clear)")
    secret_volumes = {}  # volume -> the consumer whose secret key is on it
    for consumer in CONSUMERS:
        service = services.get(consumer)
        if not isinstance(service, dict):
            failures.append(f"no '{consumer}' service")
            continue
        paths = [p for p in environment(service).get(SECRET_KEY_VAR, "").split(",") if p]
        if not paths:
            failures.append(f"{consumer}: {SECRET_KEY_VAR} not set (sealed halves would be skipped)")
        for path in paths:
            mount = mount_of(service, path)
            if mount is None or mount[0] is None:
                failures.append(f"{consumer}: {SECRET_KEY_VAR} {path} is on no named volume or bind mount")
                continue
            if not mount[2]:
                failures.append(f"{consumer}: mounts its secret-key volume '{mount[0]}' read-write (use :ro)")
            secret_volumes[mount[0]] = consumer
    for name, service in services.items():
        service = service or {}
        keygen_job = name in one_shot and runs_keygen(service)
        for source, target, _ in mounts(service):
            owner = secret_volumes.get(source)
            if owner and owner != name and not keygen_job:
                failures.append(f"{name}: mounts {owner}'s secret-key volume '{source}' at {target} "
                                f"(only {owner} and the keygen job may)")
    return failures


def env_example_names(path):
    """NAME -> value of each NAME=value line; a commented-out line (# NAME=value) lists an
    optional variable, and its value counts too (an example secret is still a committed one)."""
    names = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*(?:#\s*)?(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line.rstrip("\n"))
            if m:
                value = m.group(2).strip().strip("'\"")
                names[m.group(1)] = names.get(m.group(1)) or value
    return names


def check_env_example(compose, compose_path):
    path = os.path.join(os.path.dirname(os.path.abspath(compose_path)), ".env.example")
    try:
        listed = env_example_names(path)
    except OSError as e:
        return [f".env.example: cannot read {path}: {e.strerror}"]
    failures = []
    used = sorted({var for _, text in strings(compose) for var, _, _ in interpolations(text)})
    for var in used:
        if var not in listed:
            failures.append(f".env.example: does not list {var} (used by the compose file)")
    for var, value in listed.items():
        if SENSITIVE.search(var) and value:
            failures.append(f".env.example: {var} has a value; leave secrets empty (each user generates them)")
    return failures


def check_wal_settings(services, compose_path):
    """Both PostgreSQL services run with script/lib/postgres.sh's PG_WAL_SETTINGS, the list the
    embedded default and the tests use (docs/privacy.md, "What WAL and backups keep")."""
    root = os.path.dirname(os.path.abspath(compose_path))
    lib = os.path.join(root, "script", "lib", "postgres.sh")
    listed = subprocess.run(["bash", "-c", 'source "$1"; printf "%s\\n" "${PG_WAL_SETTINGS[@]}"', "bash", lib],
                            capture_output=True, text=True)
    wanted = [line for line in listed.stdout.splitlines() if line]
    if listed.returncode != 0 or not wanted:
        return [f"cannot read PG_WAL_SETTINGS from {lib}: {listed.stderr.strip()}"]
    failures = []
    for name, service in services.items():
        if not str((service or {}).get("image", "")).startswith("postgres:") or name == "db-roles":
            continue
        command = (service or {}).get("command") or []
        given = [command[i + 1] for i in range(len(command) - 1) if command[i] == "-c"]
        if given != wanted:
            failures.append(f"{name}: its -c settings {given} are not PG_WAL_SETTINGS {wanted}")
    return failures


def check(compose, schema, compose_path):
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
    try:
        generated = generated_secrets(compose_path)
    except (OSError, RuntimeError) as e:
        failures.append(str(e))
        generated = {}
    failures += check_roles(services, one_shot, generated)
    failures += check_secrets(compose, services, generated)
    failures += check_sealing(services, one_shot)
    failures += check_env_example(compose, compose_path)
    failures += check_wal_settings(services, compose_path)
    return failures, one_shot


# Lists the Compose Specification itself merges by concatenation (or by mount target), as
# podman-compose does: an override may add to them.
CONCATENATED = {"volumes", "ports", "expose", "dns", "dns_search", "tmpfs", "devices", "external_links"}


def override_failures(path, override, compose, schema):
    """Rule 8 for one override file."""
    failures = []
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(override), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        failures.append(f"{path}: schema: {where}: {error.message}")

    def lists_over_lists(base, over, where):
        for key, value in (over or {}).items():
            if key.startswith("<<") or key not in (base or {}):
                continue
            if isinstance(value, list) and isinstance(base[key], list) and key not in CONCATENATED:
                failures.append(f"{path}: {where}{key}: a list over compose.yaml's list (podman-compose would append it)")
            elif type(value) is not type(base[key]) and {type(value), type(base[key])} <= {list, str, dict}:
                failures.append(f"{path}: {where}{key}: a {type(value).__name__} over compose.yaml's "
                                f"{type(base[key]).__name__} (podman-compose cannot merge them)")
            elif isinstance(value, dict) and isinstance(base[key], dict):
                lists_over_lists(base[key], value, f"{where}{key}.")

    base_services = compose.get("services") or {}
    for name, service in ((override or {}).get("services") or {}).items():
        if name not in base_services:
            failures.append(f"{path}: services.{name}: not a service of the compose file")
            continue
        lists_over_lists(base_services[name], service, f"services.{name}.")
    return failures


def main(argv):
    if len(argv) < 3:
        bad_usage(__doc__, argv, (3,))
        return 2
    try:
        with open(argv[1]) as f:
            compose = yaml.safe_load(f)
        with open(argv[2]) as f:
            schema = json.load(f)
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as e:
        print(f"cannot read input: {e}")
        return 1
    failures, one_shot = check(compose, schema, argv[1])
    for path in argv[3:]:
        try:
            with open(path) as f:
                failures += override_failures(path, yaml.safe_load(f), compose, schema)
        except (OSError, yaml.YAMLError) as e:
            failures.append(f"{path}: cannot read: {e}")
    if listed(failures, f"{argv[1]}: "):
        return 1
    services = compose["services"]
    print(f"{argv[1]}: valid; {len(services)} services, "
          f"healthchecks on all but the one-shot {', '.join(sorted(one_shot)) or '(none)'}; "
          f"roles, secrets, sealing, .env.example and the WAL settings hold"
          + (f"; {len(argv) - 3} override file(s) valid, no list over a list" if len(argv) > 3 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
