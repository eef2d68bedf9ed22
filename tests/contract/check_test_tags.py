#!/usr/bin/env python3
"""contract.test-tags: every Catch TEST_CASE of the binaries CTest runs by tag (e2e, privacy,
faults, security, bench) is selected by at least one CTest test, so a case whose tag was never
added to the hand-kept lists in tests/CMakeLists.txt cannot silently never run. (The reverse, a
listed tag with no case, fails the test itself: --warn NoTests.) Hidden cases ([.], [.name])
are skipped, as Catch skips them.

    check_test_tags.py CTEST BUILD_DIR TESTS_SOURCE_DIR
"""
import json
import os
import re
import shlex
import subprocess
import sys

# Source folder -> the Catch binary built from it.
BINARIES = {
    "e2e": "splitvote-e2e-tests",
    "privacy": "splitvote-privacy-tests",
    "faults": "splitvote-fault-tests",
    "security": "splitvote-security-tests",
    "bench": "splitvote-bench-tests",
}
CASE = re.compile(r'TEST_CASE\(\s*"((?:[^"\\]|\\.)*)"\s*,\s*"([^"]*)"', re.S)
TAG = re.compile(r"\[([^\]]*)\]")


def filters_by_binary(ctest, build_dir, tests_dir):
    """binary -> the tag filters its CTest tests pass (each a set of tags, all required)."""
    out = subprocess.run([ctest, "--show-only=json-v1"], cwd=build_dir, check=True,
                         capture_output=True, text=True).stdout
    found = {}
    for t in json.loads(out)["tests"]:
        command = list(t.get("command", []))
        # A wrapper script that execs the binary with its own filter (tests/browser/run.sh).
        for arg in list(command):
            if arg.endswith(".sh") and os.path.isfile(arg):
                with open(arg, encoding="utf-8") as f:
                    for line in f:
                        if line.lstrip().startswith("exec "):
                            command += shlex.split(line.strip())[1:]
        binary = next((os.path.basename(c) for c in command if os.path.basename(c) in BINARIES.values()), None)
        if not binary:
            continue
        for arg in command:
            tags = TAG.findall(arg)
            if tags and arg.startswith("["):
                found.setdefault(binary, []).append(set(tags))
    return found


def main() -> int:
    ctest, build_dir, tests_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    filters = filters_by_binary(ctest, build_dir, tests_dir)
    problems, cases = [], 0
    for folder, binary in BINARIES.items():
        root = os.path.join(tests_dir, folder)
        for dirpath, _, files in os.walk(root):
            for name in sorted(files):
                if not name.endswith(".cpp"):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for m in CASE.finditer(text):
                    tags = set(TAG.findall(m.group(2)))
                    if any(t == "." or t.startswith(".") for t in tags):
                        continue
                    cases += 1
                    if not any(f <= tags for f in filters.get(binary, [])):
                        line = text.count("\n", 0, m.start()) + 1
                        problems.append(f"{os.path.relpath(path, tests_dir)}:{line}: \"{m.group(1)}\" {m.group(2)}: "
                                        f"no CTest test of {binary} selects these tags (add one to tests/CMakeLists.txt)")
    for p in problems:
        print("contract.test-tags:", p)
    if problems:
        return 1
    print(f"contract.test-tags: all {cases} tagged cases of {len(BINARIES)} binaries are run by a CTest test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
