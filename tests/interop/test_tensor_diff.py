#!/usr/bin/python3
"""`supra diff` numbers against numpy: the demo model (f32 HF folder) and its
f16 conversion by supra (another HF folder) are read here with numpy (a
safetensors file is an 8-byte length, a JSON header and raw arrays), and per
tensor the count of differing values, max abs diff, where it is, and the
relative L2 error are recomputed and compared with `supra diff --json`.
HF names map to supra's canonical names through schema/conventions/hf_llama.json.
A bf16 folder with one value edited is found, and only it.

usage: test_tensor_diff.py PATH_TO_SUPRA"""
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check as harness_check, summary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SUPRA = sys.argv[1]
DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None}


def check(name, ok, detail=""):
    return harness_check(name, ok, "" if ok else detail)


def supra(*args):
    return subprocess.run([SUPRA, *args], capture_output=True, text=True)


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        lo, hi = e["data_offsets"]
        buf = raw[8 + n + lo:8 + n + hi]
        if e["dtype"] == "BF16":  # numpy has no bfloat16: widen the bits to f32
            a = (np.frombuffer(buf, np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(buf, DTYPES[e["dtype"]])
        out[name] = a.reshape(e["shape"]).astype(np.float64)
    return out


def canonical_names():
    """HF name -> canonical name, from the convention tables."""
    hf = json.load(open(os.path.join(HERE, "..", "..", "schema", "conventions", "hf_llama.json")))
    canon = json.load(open(os.path.join(HERE, "..", "..", "schema", "conventions", "canonical.json")))
    pairs = []
    for role, name in hf["tensors"].items():
        name = name["name"] if isinstance(name, dict) else name
        pairs.append((re.compile("^" + re.escape(name).replace(r"\{bid\}", r"(\d+)") + "$"), canon["tensors"][role]))

    def to_canonical(n):
        for rx, target in pairs:
            m = rx.match(n)
            if m:
                return target.replace("{bid}", m.group(1)) if m.groups() else target
        return None
    return to_canonical


def numpy_diff(a, b):
    d = b - a
    differing = int(np.count_nonzero(d))
    rel = float(np.linalg.norm(d) / np.linalg.norm(a)) if np.linalg.norm(a) > 0 else 0.0
    return {"differing": differing, "max_abs": float(np.abs(d).max()) if d.size else 0.0,
            "max_abs_index": int(np.argmax(np.abs(d).ravel())) if differing else None, "rel_l2": rel}


def compare(label, report, a, b, to_canonical):
    by_name = {t["name"]: t for t in report["tensors"]}
    bad, seen = [], 0
    for hf_name, va in a.items():
        name = to_canonical(hf_name)
        t = by_name.get(name)
        if t is None:
            bad.append(f"{hf_name} ({name}) not in supra's report")
            continue
        seen += 1
        want = numpy_diff(va, b[hf_name])
        for key, w in want.items():
            got = t[key]
            if w is None or got is None:
                ok = w == got
            else:
                ok = np.isclose(got, w, rtol=1e-12, atol=0)
            if not ok:
                bad.append(f"{name}.{key}: supra {got} numpy {w}")
    check(f"{label}: {seen} tensors, differing / max abs / where / rel L2 match numpy", not bad and seen == len(a),
          "; ".join(bad[:4]))


def main():
    to_canonical = canonical_names()
    with tempfile.TemporaryDirectory() as tmp:
        p = lambda name: os.path.join(tmp, name)  # noqa: E731
        r1 = supra("demo-model", p("f32"), "--dtype", "f32")
        r2 = supra("convert", p("f32"), p("f16"), "--dtype", "f16", "--layout", "hf")
        if not check("supra made the demo model and its f16 copy", r1.returncode == 0 and r2.returncode == 0,
                     r1.stderr + r2.stderr):
            return summary()
        a = read_safetensors(p("f32/model.safetensors"))
        b = read_safetensors(p("f16/model.safetensors"))
        r = supra("diff", p("f32"), p("f16"), "--json")
        check("f32 vs f16 differ: exit 6", r.returncode == 6, r.stderr)
        report = json.loads(r.stdout)
        compare("f32 vs f16", report, a, b, to_canonical)
        check("some tensors really differ", report["counts"]["different"] > 0)

        # bf16 copy with one value edited.
        r = supra("convert", p("f32"), p("bf16"), "--dtype", "bf16", "--layout", "hf")
        st = p("bf16/model.safetensors")
        raw = bytearray(open(st, "rb").read())
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + n])
        target = "model.layers.0.self_attn.k_proj.weight"
        at = 8 + n + header[target]["data_offsets"][0] + 2 * 77
        raw[at:at + 2] = (np.array([1.5], np.float32).view(np.uint32) >> 16).astype(np.uint16).tobytes()
        open(p("bf16/edited.safetensors"), "wb").write(raw)
        os.replace(p("bf16/edited.safetensors"), st)
        base = supra("convert", p("f32"), p("bf16_ref"), "--dtype", "bf16", "--layout", "hf")
        r = supra("diff", p("bf16_ref"), p("bf16"), "--json")
        report = json.loads(r.stdout) if r.stdout else {"tensors": [], "counts": {}}
        changed = [t["name"] for t in report["tensors"] if t["status"] != "identical"]
        check("edited bf16 tensor found, and only it", base.returncode == 0 and r.returncode == 6
              and changed == ["layers.0.attn_k.weight"], f"{changed} {r.stderr}")
        compare("edited bf16", report, read_safetensors(p("bf16_ref/model.safetensors")), read_safetensors(st),
                to_canonical)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
