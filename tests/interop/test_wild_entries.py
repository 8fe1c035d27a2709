#!/usr/bin/python3
"""One unreadable entry must not sink the file (issue 13).

Files written here by their real producers (numpy, scipy.sparse.save_npz,
h5py) hold tensors beside entries that are no tensor supra can represent:
string arrays, float128, complex, structured records, Python objects; HDF5
long double, compound (a PyTables-style table), vlen, bitfield, array,
string datasets, and a dataset behind a filter this libhdf5 has no plugin for
(h5py's own LZF). Checked:
- `inspect --json` lists the tensors and each skipped entry with its type;
  HDF5 types are named by class ("compound", not "class 6");
- `convert` succeeds, prints one warning line per skipped entry, and the
  tensors it wrote equal np.load / h5py's values bit for bit; an integer
  HDF5 enum comes through as its integer type;
- `--strict` turns a skip into an error (exit 3, the reader's id), and
  `--only`/`--exclude` filter before that: an excluded entry is no error;
- libhdf5's own error stack never reaches stderr; an attribute holding a
  newline is shown escaped on one line by `inspect`.

usage: test_wild_entries.py PATH_TO_SUPRA"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check, summary  # noqa: E402

SUPRA = sys.argv[1]


def supra(*args):
    return subprocess.run([SUPRA, *args], capture_output=True, text=True)


def warnings(stderr):
    return [line for line in stderr.splitlines() if line.startswith("warning: skipped")]


def same_arrays(got, want):
    """Two name -> array maps hold the same arrays, bit for bit."""
    if sorted(got) != sorted(want):
        return False, f"names {sorted(got)} != {sorted(want)}"
    for k in want:
        a, b = np.asarray(got[k]), np.asarray(want[k])
        if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
            return False, f"{k}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
    return True, ""


def check_file(tmp, src, tensors, skipped, strict_id):
    """`tensors`: name -> the values the producer's reader gives; `skipped`: names."""
    base = os.path.basename(src)
    r = supra("inspect", src, "--json")
    report = json.loads(r.stdout) if r.returncode == 0 else {"tensors": [], "skipped": []}
    names = [t["name"] for t in report["tensors"]]
    listed = {e["name"]: e for e in report["skipped"]}
    check(f"{base}: inspect lists the tensors", sorted(names) == sorted(tensors), r.stderr.strip() or names)
    check(f"{base}: inspect lists each skipped entry with its type", sorted(listed) == sorted(skipped)
          and all(e["type"] and e["why"] for e in listed.values()), listed)
    text = supra("inspect", src)
    check(f"{base}: inspect's text shows the skipped entries",
          text.returncode == 0 and all(f"  {n}  " in text.stdout for n in skipped), text.stdout[-400:])

    out = os.path.join(tmp, base + ".out.npz")
    r = supra("convert", src, out)
    lines = warnings(r.stderr)
    check(f"{base}: converts, one warning line per skipped entry", r.returncode == 0 and len(lines) == len(skipped)
          and all(any(f"'{n}'" in line for line in lines) for n in skipped), r.stderr.strip())
    if r.returncode == 0:
        with np.load(out) as z:
            ok, why = same_arrays({k: z[k] for k in z.files}, tensors)
        check(f"{base}: the tensors equal the producer's reader bit for bit", ok, why)

    r = supra("convert", src, os.path.join(tmp, "strict", base + ".npz"), "--strict")
    check(f"{base}: --strict makes a skip an error [{strict_id}], nothing written",
          r.returncode == 3 and f"[{strict_id}]" in r.stderr and not os.path.exists(os.path.join(tmp, "strict")),
          r.stderr.strip())
    exclude = "^(" + "|".join(skipped) + ")$"
    r = supra("convert", src, os.path.join(tmp, base + ".filtered.npz"), "--strict", "--exclude", exclude)
    check(f"{base}: --exclude filters before typing (--strict passes, no warning)",
          r.returncode == 0 and not warnings(r.stderr), r.stderr.strip())
    return report


def npz_case(tmp):
    src = os.path.join(tmp, "mixed.npz")
    good = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "ids": np.array([1, -2, 3], dtype=np.int64)}
    odd = {"labels": np.array(["cat", "dog"]), "raw": np.array([b"abc", b"de"]),
           "f128": np.arange(3, dtype=np.longdouble), "cplx": np.array([1 + 2j], dtype=np.complex64),
           "records": np.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", "<f8")]),
           "objs": np.array([{"a": 1}, None], dtype=object)}
    np.savez(src, **good, **odd)
    report = check_file(tmp, src, good, list(odd), "numpy.105")
    types = {e["name"]: e["type"] for e in report["skipped"]}
    check("npz: skip types are numpy's descr", types.get("labels") == "numpy <U3" and types.get("raw") == "numpy |S3"
          and types.get("f128") == "numpy <f16", types)


def scipy_case(tmp):
    try:
        import scipy.sparse
    except ImportError:
        check("scipy.sparse is installed (tools/install_deps.sh: python3-scipy)", False)
        return
    m = scipy.sparse.random(20, 30, density=0.2, format="csr", random_state=3, dtype=np.float64)
    src = os.path.join(tmp, "sparse.npz")
    scipy.sparse.save_npz(src, m)
    with np.load(src) as z:
        tensors = {k: z[k] for k in z.files if k != "format"}
    check_file(tmp, src, tensors, ["format"], "numpy.105")


def hdf5_case(tmp):
    src = os.path.join(tmp, "mixed.h5")
    with h5py.File(src, "w") as f:
        f["weights/w"] = np.arange(6, dtype=np.float32).reshape(2, 3)
        f.create_dataset("color", data=np.array([0, 1, 2, 1], dtype=np.int16),
                         dtype=h5py.enum_dtype({"RED": 0, "GREEN": 1, "BLUE": 2}, basetype="i2"))
        f["mask"] = np.array([True, False, True])  # h5py's bool enum
        f["long_double"] = np.arange(4, dtype=np.longdouble)
        f["table"] = np.array([(1, 2.0), (3, 4.0)], dtype=[("a", "<i4"), ("b", "<f8")])  # PyTables-style rows
        ragged = f.create_dataset("ragged", (2,), dtype=h5py.vlen_dtype(np.int32))
        ragged[0], ragged[1] = [1, 2, 3], [4]
        f["names"] = np.array([b"ab", b"cd"])
        h5py.h5d.create(f.id, b"bits", h5py.h5t.STD_B8LE.copy(), h5py.h5s.create_simple((4,)))
        h5py.h5d.create(f.id, b"vec3", h5py.h5t.array_create(h5py.h5t.IEEE_F32LE, (3,)), h5py.h5s.create_simple((2,)))
        f.create_dataset("packed", data=np.arange(50, dtype=np.float32), compression="lzf", chunks=(10,))
        f.attrs["note"] = "line1\nline2"
    with h5py.File(src, "r") as f:
        tensors = {"weights/w": f["weights/w"][()], "color": f["color"][()], "mask": f["mask"][()]}
    skipped = ["long_double", "table", "ragged", "names", "bits", "vec3", "packed"]
    report = check_file(tmp, src, tensors, skipped, "hdf5.105")
    types = {e["name"]: e for e in report["skipped"]}
    want = {"long_double": "float", "table": "compound", "ragged": "vlen", "names": "string",
            "bits": "bitfield", "vec3": "array"}
    check("h5: skipped types name the HDF5 class", all(k in types and f"HDF5 {c}," in types[k]["type"]
                                                       for k, c in want.items()), types)
    dtypes = {t["name"]: t["dtype"] for t in report["tensors"]}
    check("h5: an integer enum comes through as its integer type", dtypes.get("color") == "I16", dtypes)
    why = types.get("packed", {}).get("why", "")
    check("h5: a missing filter plugin is named", "filter 'lzf' (32000) is not available" in why, why)
    r = supra("convert", src, os.path.join(tmp, "packed.npz"), "--strict", "--only", "^packed$")
    check("h5: --strict on the filtered dataset says which filter is missing",
          r.returncode == 3 and "filter 'lzf' (32000) is not available" in r.stderr, r.stderr.strip())

    text = supra("inspect", src)
    lines = text.stdout.splitlines()
    check("h5: an attribute's newline is escaped on one line", any("note = line1\\nline2" in x for x in lines)
          and not any(x.startswith("line2") for x in lines), [x for x in lines if "line" in x])
    # libhdf5's error stack is never printed: not for skipped types, filters, or broken files.
    broken = os.path.join(tmp, "broken.h5")
    with open(src, "rb") as f:
        data = f.read()
    with open(broken, "wb") as f:
        f.write(data[:len(data) // 3])
    quiet = True
    for args in [("inspect", src), ("convert", src, os.path.join(tmp, "q.npz")), ("inspect", broken),
                 ("convert", broken, os.path.join(tmp, "q2.npz"))]:
        r = supra(*args)
        quiet &= "HDF5-DIAG" not in r.stderr and "#000" not in r.stderr
    check("h5: libhdf5's own error stack never reaches stderr", quiet)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        npz_case(tmp)
        scipy_case(tmp)
        hdf5_case(tmp)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
