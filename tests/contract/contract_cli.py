"""What the contract checks share: the usage line on bad arguments, the list of failures, and
the verdict of a check that needs a tool which may not be installed."""
import os
import sys

SKIP = 77  # CTest SKIP_RETURN_CODE


def required(name):
    """Whether the tool `name` must be there: listed in SPLITVOTE_REQUIRED_TOOLS (comma-separated),
    which a CI that installs it sets (.github/workflows/ci.yml installs kubectl and terraform).
    Not CI=true alone: the project's own CI machine cannot install them (neither is a Debian or
    an npm package), and a check must not fail on what its machine cannot have."""
    return name in [t.strip() for t in os.environ.get("SPLITVOTE_REQUIRED_TOOLS", "").split(",")]


def skipped(name, not_checked):
    """The exit status when the tool `name` is missing: SKIP after a loud line saying what was not
    checked, or 1 when the tool is required here."""
    print(f"SKIPPED: {name} is not installed: {not_checked}")
    if required(name):
        print(f"{name} is listed in SPLITVOTE_REQUIRED_TOOLS: failing instead of skipping")
        return 1
    if os.environ.get("CI") == "true":
        print(f"CI=true: {name} cannot be installed by script/bootstrap (not a Debian or npm package); "
              "this part is NOT checked in this CI run")
    return SKIP


def bad_usage(doc, argv, counts):
    """Whether argv (the script's name included) has a number of items not in `counts`; if so,
    the usage line (the third line of the script's docstring `doc`) goes to stderr."""
    if len(argv) in counts:
        return False
    print(doc.strip().splitlines()[2], file=sys.stderr)
    return True


def listed(failures, heading):
    """Whether there are failures; if so, prints `heading` and their number, then one a line."""
    if not failures:
        return False
    print(f"{heading}{len(failures)} problem(s)")
    for f in failures:
        print(f"  {f}")
    return True


def verdict(summary, tool, checked, not_checked, name=None):
    """The exit status once every other rule held: 0 after "summary; checked", or (`skipped`)
    SKIP after "summary" and a loud "SKIPPED: not_checked" when `tool` (its path, or None) is not
    installed; 1 instead when the tool `name` is required (SPLITVOTE_REQUIRED_TOOLS)."""
    if not tool:
        print(summary)
        return skipped(name or "the tool", not_checked)
    print(f"{summary}; {checked}")
    return 0
