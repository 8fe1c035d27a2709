#!/usr/bin/python3
"""NumPy interop: Debian's numpy is the independent reader and writer.

- supra's .npz / .npy open with np.load and hold the same arrays, bit for bit,
  as the np.savez / np.savez_compressed / np.save files they came from;
- npz -> safetensors -> npz and .pt -> .npz round trips are bit-exact;
- zipfile.testzip finds no bad CRC in our .npz;
- bf16 needs --dtype f32 (numpy has no bfloat16); malformed inputs exit 3.

usage: test_numpy.py PATH_TO_SUPRA"""
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check, summary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "fixtures", "numpy")
PTFIX = os.path.join(HERE, "..", "fixtures", "pytorch")
SUPRA = sys.argv[1]


def supra(*args):
    return subprocess.run([SUPRA, *args], capture_output=True, text=True)


def same_arrays(a, b):
    if sorted(a) != sorted(b):
        return False, f"names {sorted(a)} != {sorted(b)}"
    for k in a:
        x, y = a[k], b[k]
        if x.dtype != y.dtype or x.shape != y.shape or np.ascontiguousarray(x).tobytes() != np.ascontiguousarray(y).tobytes():
            return False, f"array {k}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}"
    return True, ""


def load(path):
    with np.load(path, allow_pickle=False) as f:
        if isinstance(f, np.ndarray):
            return f
        return {k: f[k] for k in f.files}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for src in ["basic.npz", "compressed.npz"]:
            out = os.path.join(tmp, "out_" + src)
            r = supra("convert", os.path.join(FIX, src), out)
            ok, why = (False, r.stderr) if r.returncode else same_arrays(load(out), load(os.path.join(FIX, src)))
            check(f"{src} -> supra .npz equals np.load of the original", ok, why)
            with zipfile.ZipFile(out) as z:
                check(f"{src}: zipfile.testzip finds no bad CRC; members stored",
                      z.testzip() is None and all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist()))

        for src in ["single.npy", "fortran.npy", "v2.npy", "v3.npy"]:
            out = os.path.join(tmp, "out_" + src)
            r = supra("convert", os.path.join(FIX, src), out)
            ok = r.returncode == 0
            if ok:
                a, b = np.load(out), np.load(os.path.join(FIX, src))
                ok = a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) and a.tobytes() == np.ascontiguousarray(b).tobytes()
            check(f"{src} -> supra .npy equals np.load of the original", ok, r.stderr.strip())

        # Bigger arrays (several 8 MiB chunks), special values, through safetensors and back.
        rng = np.random.default_rng(5)
        arrays = {"w": rng.standard_normal((3000, 1100)).astype(np.float32),
                  "h": rng.standard_normal((1000, 100)).astype(np.float16),
                  "d": np.array([np.nan, np.inf, -0.0, 5e-324]),
                  "ids": rng.integers(-2**62, 2**62, 500),
                  "u": rng.integers(0, 2**32, 100, dtype=np.uint32),
                  "b": rng.random(33) > 0.5}
        src = os.path.join(tmp, "big.npz")
        np.savez(src, **arrays)
        st, back = os.path.join(tmp, "big.safetensors"), os.path.join(tmp, "back.npz")
        r1 = supra("convert", src, st)
        r2 = supra("convert", st, back)
        ok, why = (False, r1.stderr + r2.stderr) if r1.returncode or r2.returncode else same_arrays(load(back), arrays)
        check("npz -> safetensors -> npz is bit-exact", ok, why)

        # One array to .npy; several to .npy is refused.
        one = os.path.join(tmp, "w.npy")
        r = supra("convert", src, one, "--only", "^w$")
        check("one tensor -> .npy equals the array", r.returncode == 0 and np.array_equal(np.load(one), arrays["w"]), r.stderr.strip())
        r = supra("convert", src, os.path.join(tmp, "many.npy"))
        check("many tensors -> .npy refused [numpy.301]", r.returncode == 2 and "[numpy.301]" in r.stderr, r.stderr.strip())

        # .pt -> .npz: numpy sees what torch saved (bf16 only after --dtype f32, which is exact).
        import torch
        out = os.path.join(tmp, "pt.npz")
        r = supra("convert", os.path.join(PTFIX, "basic.pt"), out)
        check("bf16 -> .npz refused [numpy.302]", r.returncode == 3 and "[numpy.302]" in r.stderr, r.stderr.strip())
        r = supra("convert", os.path.join(PTFIX, "basic.pt"), out, "--dtype", "f32")
        ok = r.returncode == 0
        if ok:
            got = load(out)
            sd = torch.load(os.path.join(PTFIX, "basic.pt"))
            want = {k: (v.float() if v.is_floating_point() else v).numpy() for k, v in sd.items()}
            ok, why = same_arrays(got, want)
        else:
            why = r.stderr
        check(".pt --dtype f32 -> .npz equals torch.load(...).float()", ok, why)

        for name, err in [("truncated.npy", "numpy.107"), ("big_endian.npy", "numpy.106"), ("object.npy", "numpy.105"),
                          ("bad_crc.npz", "zip.110")]:
            out = os.path.join(tmp, "bad", "x.npz")
            r = supra("convert", os.path.join(FIX, name), out)
            check(f"{name} refused [{err}], nothing left", r.returncode == 3 and f"[{err}]" in r.stderr
                  and not os.path.exists(os.path.join(tmp, "bad")), r.stderr.strip())
    return summary()


if __name__ == "__main__":
    sys.exit(main())
