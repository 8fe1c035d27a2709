#!/usr/bin/env python3
"""Holds every project #include to the stage order of the build:

    schema <- tokenizer <- converters <- validate <- linearize <- tools

A stage may include its own headers and those of the stages before it, never
one after it (CMakeLists.txt links them in that order; an include the other
way would make a cycle the static libraries hide until a link fails). Third
party headers are private to one stage: libhdf5 to converters/hdf5, libzstd to
converters/zstd, PCRE2 and ICU to tokenizer/, Eigen to validate/.

Usage: check_layering.py [SOURCE_DIR]; prints every violation, exit 1 if any.
"""
import pathlib
import re
import sys

STAGES = ["schema", "tokenizer", "converters", "validate", "linearize", "tools"]
# Folders outside the stage chain that may include any stage.
USERS = ["tests", "fuzz", "bench"]
# Third-party header prefix -> the only folders whose sources may include it.
PRIVATE_HEADERS = {
    "hdf5.h": ["converters/hdf5/", "tests/"],
    "H5": ["converters/hdf5/", "tests/"],
    "zstd.h": ["converters/zstd/", "tests/"],
    "zstd_errors.h": ["converters/zstd/"],
    "pcre2.h": ["tokenizer/"],
    "unicode/": ["tokenizer/"],
    "Eigen/": ["validate/", "tests/validate/", "bench/"],
}
PROJECT_INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
SYSTEM_INCLUDE = re.compile(r"^\s*#\s*include\s+<([^>]+)>")


def violations(root):
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".cpp", ".hpp", ".h", ".cc"):
            continue
        rel = path.relative_to(root).as_posix()
        top = rel.split("/", 1)[0]
        if top not in STAGES and top not in USERS:
            continue
        if "node_modules" in rel or rel.startswith("build"):
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = PROJECT_INCLUDE.match(line)
            if m and top in STAGES and m.group(1) in STAGES:
                if STAGES.index(m.group(1)) > STAGES.index(top):
                    yield f"{rel}:{number}: {top}/ includes {m.group(1)}/, a later stage: {line.strip()}"
            m = SYSTEM_INCLUDE.match(line)
            if m:
                for prefix, allowed in PRIVATE_HEADERS.items():
                    if m.group(1).startswith(prefix) and not any(rel.startswith(a) for a in allowed):
                        yield f"{rel}:{number}: <{m.group(1)}> is private to {', '.join(allowed)}"


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    found = list(violations(root))
    for v in found:
        print(v)
    print(f"layering: {len(found)} violation(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
