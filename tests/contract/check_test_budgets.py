#!/usr/bin/env python3
"""contract.test-budgets: every CTest test of this build has a TIMEOUT of its own, and the Catch
test binaries get the same number as SPLITVOTE_TEST_TIMEOUT for their watchdog, so that a hang
is cut short and says what it waited on instead of eating CI's time budget.

    check_test_budgets.py CTEST BUILD_DIR
"""
import json
import subprocess
import sys

import contract_cli  # beside this script


def main() -> int:
    ctest, build_dir = sys.argv[1], sys.argv[2]
    out = subprocess.run([ctest, "--show-only=json-v1"], cwd=build_dir, check=True,
                         capture_output=True, text=True).stdout
    tests = json.loads(out)["tests"]
    problems, binaries = [], 0
    for t in tests:
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        name = t["name"]
        timeout = props.get("TIMEOUT")
        if not timeout:
            problems.append(f"{name}: no TIMEOUT")
            continue
        command = t.get("command", [])
        # Our Catch binaries (directly, or through browser/run.sh) run the watchdog.
        runs_catch = any("/splitvote-" in c and c.endswith("-tests") for c in command)
        if runs_catch:
            binaries += 1
            env = dict(e.split("=", 1) for e in props.get("ENVIRONMENT", []))
            if "SPLITVOTE_TEST_TIMEOUT" not in env:
                problems.append(f"{name}: no SPLITVOTE_TEST_TIMEOUT for its watchdog")
            elif name != "unit.watchdog-fires" and float(env["SPLITVOTE_TEST_TIMEOUT"]) != float(timeout):
                problems.append(f"{name}: watchdog {env['SPLITVOTE_TEST_TIMEOUT']} s, TIMEOUT {timeout} s")
        if float(timeout) > 600:
            problems.append(f"{name}: TIMEOUT {timeout} s is more than 10 minutes")
    if len(tests) < 100:
        problems.append(f"only {len(tests)} tests listed: is this the whole suite?")
    if contract_cli.listed(problems, "contract.test-budgets: "):
        return 1
    print(f"{len(tests)} tests, each with a TIMEOUT; {binaries} run a Catch binary with its watchdog set to it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
