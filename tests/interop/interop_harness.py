"""What every interop script shares: named checks that print one line each and
a closing `N passed, M failed` line that ctest's exit code follows."""

_counts = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    _counts["passed" if ok else "failed"] += 1
    print(("ok   " if ok else "FAIL ") + name + (" " + str(detail) if detail else ""))
    return ok


def summary():
    """Prints the closing line; returns the process exit code."""
    print(f"{_counts['passed']} passed, {_counts['failed']} failed")
    return 1 if _counts["failed"] or not _counts["passed"] else 0
