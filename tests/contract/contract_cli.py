"""What the contract checks share: the usage line on bad arguments, the list of failures, and
the verdict of a check that needs a tool which may not be installed."""
import sys

SKIP = 77  # CTest SKIP_RETURN_CODE


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


def verdict(summary, tool, checked, not_checked):
    """The exit status once every other rule held: 0 after "summary; checked", or SKIP after
    "summary; not_checked" when `tool` (its path, or None) is not installed."""
    if not tool:
        print(f"{summary}; {not_checked}")
        return SKIP
    print(f"{summary}; {checked}")
    return 0
