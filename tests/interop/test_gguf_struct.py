"""GGUF interop without ggml: this script writes a GGUF file with struct +
numpy (the layout of ggml docs/gguf.md "File Structure"), including quantized tensors whose
expected f32 values it computes itself (vectorized numpy, float32 arithmetic
in ggml's order). Then:
  1. `supra inspect --json --stats` must report the KVs, reversed shapes and
     exact min/max of every tensor;
  2. `supra convert in.gguf out.gguf --dtype f32` must write a file that this
     script parses back: every KV with its type, offsets = running padded sums,
     zero padding, and tensor bytes equal to the numpy decoding bit for bit;
     without --dtype the quantized tensors are copied as they are.
Run: /usr/bin/python3 test_gguf_struct.py PATH_TO_SUPRA
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check, summary  # noqa: E402

SUPRA = sys.argv[1]


# ---------- writing ----------
def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<b", 10: "<Q", 11: "<q", 12: "<d"}


def value_bytes(t, v):
    if t == 8:
        return gstr(v)
    if t == 9:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(value_bytes(et, x) for x in items)
    return struct.pack(SCALAR[t], v)


KVS = [
    ("general.architecture", 8, "llama"),
    ("general.alignment", 4, 64),
    ("test.u8", 0, 250),
    ("test.i16", 3, -1234),
    ("test.f32", 6, 0.25),
    ("test.bool", 7, 1),
    ("test.f64", 12, 2.5e-300),
    ("test.u64", 10, 2**63 + 5),
    ("tokenizer.ggml.tokens", 9, (8, ["<s>", "</s>", "\u2581hi", "a b", "x", "y", "z", "w", "v"])),
    ("test.ints", 9, (5, [-1, 0, 7])),
]
ALIGN = 64
rng = np.random.default_rng(1234)


def f16(x):
    return np.float16(x).view(np.uint16)


def dq_q8_0(raw):
    b = np.frombuffer(raw, np.uint8).reshape(-1, 34)
    d = b[:, :2].copy().view(np.float16).astype(np.float32)
    qs = b[:, 2:].view(np.int8).astype(np.float32)
    return (qs * d).reshape(-1)


def dq_q4_0(raw):
    b = np.frombuffer(raw, np.uint8).reshape(-1, 18)
    d = b[:, :2].copy().view(np.float16).astype(np.float32)
    qs = b[:, 2:]
    lo = ((qs & 15).astype(np.int32) - 8).astype(np.float32)
    hi = ((qs >> 4).astype(np.int32) - 8).astype(np.float32)
    return np.concatenate([lo * d, hi * d], axis=1).reshape(-1)


def scale_min_k4(q):  # q: (12,) uint8 -> sc, m (8,)
    q = q.astype(np.int32)
    sc = np.zeros(8, np.int32)
    m = np.zeros(8, np.int32)
    sc[:4] = q[:4] & 63
    m[:4] = q[4:8] & 63
    sc[4:] = (q[8:12] & 15) | ((q[0:4] >> 6) << 4)
    m[4:] = (q[8:12] >> 4) | ((q[4:8] >> 6) << 4)
    return sc, m


def dq_q4_k(raw):
    out = []
    for b in np.frombuffer(raw, np.uint8).reshape(-1, 144):
        d = b[0:2].copy().view(np.float16).astype(np.float32)[0]
        dmin = b[2:4].copy().view(np.float16).astype(np.float32)[0]
        sc, m = scale_min_k4(b[4:16])
        qs = b[16:].reshape(4, 32)
        for g in range(4):
            for half, q in ((0, qs[g] & 15), (1, qs[g] >> 4)):
                s = 2 * g + half
                d1 = np.float32(d * np.float32(sc[s]))
                m1 = np.float32(dmin * np.float32(m[s]))
                out.append(d1 * q.astype(np.float32) - m1)
    return np.concatenate(out).astype(np.float32)


def dq_q6_k(raw):
    out = []
    for b in np.frombuffer(raw, np.uint8).reshape(-1, 210):
        ql, qh = b[:128].astype(np.int32), b[128:192].astype(np.int32)
        sc = b[192:208].view(np.int8).astype(np.float32)
        d = b[208:210].copy().view(np.float16).astype(np.float32)[0]
        y = np.zeros(256, np.float32)
        for n in range(2):
            L, H = ql[64 * n:64 * n + 64], qh[32 * n:32 * n + 32]
            l = np.arange(32)
            for k in range(4):
                low = (L[l + 32 * (k & 1)] & 15) if k < 2 else (L[l + 32 * (k & 1)] >> 4)
                q = (low | (((H[l] >> (2 * k)) & 3) << 4)) - 32
                s = sc[8 * n + l // 16 + 2 * k]
                y[128 * n + 32 * k + l] = np.float32(d * s) * q.astype(np.float32)
        out.append(y)
    return np.concatenate(out)


def quant_blocks(type_size, n_blocks, scale_offsets):
    raw = bytearray(rng.integers(0, 256, type_size * n_blocks, dtype=np.uint8).tobytes())
    for blk in range(n_blocks):
        for off, val in scale_offsets:  # keep scales finite and moderate
            struct.pack_into("<H", raw, blk * type_size + off, int(f16(val)))
    return bytes(raw)


f32 = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
f16t = np.array([0.5, -1.25, 3.0, 65504.0], np.float16)
q8 = quant_blocks(34, 4, [(0, 0.01)])
q4 = quant_blocks(18, 1, [(0, -0.125)])
q4k = quant_blocks(144, 2, [(0, 0.003), (2, 0.0007)])
q6k = quant_blocks(210, 1, [(208, 0.002)])
# name, ggml type, ne (GGUF order), raw bytes, expected f32 values (row-major), expected dtype
TENSORS = [
    ("f32", 0, [3, 2], f32.tobytes(), f32.reshape(-1), "F32"),
    ("f16", 1, [4], f16t.tobytes(), f16t.astype(np.float32), "F16"),
    ("q8", 8, [64, 2], q8, dq_q8_0(q8), "Q8_0"),
    ("q4", 2, [32], q4, dq_q4_0(q4), "Q4_0"),
    ("q4k", 12, [256, 2], q4k, dq_q4_k(q4k), "Q4_K"),
    ("q6k", 14, [256], q6k, dq_q6_k(q6k), "Q6_K"),
]


def pad(n, a=ALIGN):
    return (n + a - 1) // a * a


def write_gguf(path):
    h = b"GGUF" + struct.pack("<Iqq", 3, len(TENSORS), len(KVS))
    for k, t, v in KVS:
        h += gstr(k) + struct.pack("<I", t) + value_bytes(t, v)
    off = 0
    for name, t, ne, raw, _, _ in TENSORS:
        h += gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<q", d) for d in ne)
        h += struct.pack("<IQ", t, off)
        off += pad(len(raw))
    h += b"\0" * (pad(len(h)) - len(h))
    data = b"".join(raw + b"\0" * (pad(len(raw)) - len(raw)) for _, _, _, raw, _, _ in TENSORS)
    with open(path, "wb") as f:
        f.write(h + data)


# ---------- reading (independent parser) ----------
class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)
        self.p += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take("<Q")
        s = self.b[self.p:self.p + n]
        self.p += n
        return s.decode()

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("<IQ")
            return (et, [self.value(et) for _ in range(n)])
        return self.take(SCALAR[t])


def parse_gguf(path):
    b = open(path, "rb").read()
    r = Reader(b)
    assert b[:4] == b"GGUF"
    r.p = 4
    version, nt, nkv = r.take("<Iqq")
    kvs = []
    for _ in range(nkv):
        k = r.string()
        t = r.take("<I")
        kvs.append((k, t, r.value(t)))
    align = dict((k, v) for k, _, v in kvs).get("general.alignment", 32)
    infos = []
    for _ in range(nt):
        name = r.string()
        nd = r.take("<I")
        ne = [r.take("<q") for _ in range(nd)]
        t, off = r.take("<IQ")
        infos.append((name, ne, t, off))
    return b, version, kvs, infos, pad(r.p, align), align


def run(*args):
    return subprocess.run([SUPRA, *args], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "in.gguf")
    write_gguf(src)

    # 1. inspect
    r = run("inspect", src, "--json", "--stats")
    check("inspect exit", r.returncode == 0, r.stderr)
    rep = json.loads(r.stdout) if r.returncode == 0 else {"tensors": [], "metadata": {}}
    check("inspect format", rep.get("format") == "gguf", rep.get("format"))
    md = rep["metadata"]
    check("summary string", md.get("gguf.general.architecture") == "llama", md)
    check("summary u64", md.get("gguf.test.u64") == str(2**63 + 5), md.get("gguf.test.u64"))
    check("summary long array", md.get("gguf.tokenizer.ggml.tokens", "").startswith("[9 x string: \"<s>\""),
          md.get("gguf.tokenizer.ggml.tokens"))
    check("summary short array", md.get("gguf.test.ints") == "[-1, 0, 7]", md.get("gguf.test.ints"))
    by_name = {t["name"]: t for t in rep["tensors"]}
    for name, _, ne, _, want, dtype in TENSORS:
        t = by_name.get(name, {})
        check(f"{name} shape", t.get("shape") == list(reversed(ne)), t.get("shape"))
        check(f"{name} dtype", t.get("dtype") == dtype, t.get("dtype"))
        s = t.get("stats", {})
        check(f"{name} min/max", s.get("min") == float(want.min()) and s.get("max") == float(want.max()),
              (s, float(want.min()), float(want.max())))
        check(f"{name} mean", abs(s.get("mean", 1e9) - float(want.astype(np.float64).mean())) <= 1e-6 * (1 + abs(want).max()))

    # 2. gguf -> gguf: quantized blocks copied as they are
    copy = os.path.join(tmp, "copy.gguf")
    r = run("convert", src, copy)
    check("copy exit", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        b, _, _, infos, data_start, _ = parse_gguf(copy)
        for (name, ne, t, o), (wname, wt, wne, raw, _, _) in zip(infos, TENSORS):
            check(f"{name} copied with its type and bytes", t == wt and b[data_start + o:data_start + o + len(raw)] == raw, t)

    # 2b. gguf -> gguf --dtype f32 (values), parsed back here
    out = os.path.join(tmp, "out.gguf")
    r = run("convert", src, out, "--dtype", "f32")
    check("convert exit", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        b, version, kvs, infos, data_start, align = parse_gguf(out)
        check("version", version == 3)
        check("alignment", align == 64)
        got_kvs = [(k, t, v) for k, t, v in kvs]
        want_kvs = [(k, t, (v[0], list(v[1])) if t == 9 else v) for k, t, v in KVS]
        check("kvs with types", got_kvs == want_kvs, f"\n{got_kvs}\n{want_kvs}")
        off = 0
        for (name, ne, t, o), (wname, wt, wne, _, want, dtype) in zip(infos, TENSORS):
            check(f"{name} name/dims", name == wname and ne == wne, (name, ne))
            check(f"{name} offset", o == off, (o, off))
            raw = b[data_start + o:data_start + o + (want.size * (2 if dtype == "F16" else 4))]
            if dtype == "F16":
                check(f"{name} type", t == 1)
                check(f"{name} bytes", raw == f16t.tobytes())
                n = len(raw)
            else:
                check(f"{name} type", t == 0, t)
                got = np.frombuffer(raw, np.float32)
                check(f"{name} values bit-exact", got.tobytes() == want.astype(np.float32).tobytes(),
                      np.max(np.abs(got - want)) if got.size == want.size else got.size)
                n = len(raw)
            padding = b[data_start + o + n:data_start + pad(o + n)]
            check(f"{name} zero padding", padding == b"\0" * len(padding))
            off = pad(o + n)
        check("file size", len(b) == data_start + off, (len(b), data_start + off))

    # 3. malformed input: bad alignment type -> its id, exit 3
    bad = os.path.join(tmp, "bad.gguf")
    with open(bad, "wb") as f:
        f.write(b"GGUF" + struct.pack("<Iqq", 3, 0, 1) + gstr("general.alignment") + struct.pack("<IQ", 10, 32))
    r = run("inspect", bad)
    check("bad alignment exit", r.returncode == 3, r.returncode)
    check("bad alignment id", "[gguf.114]" in r.stderr, r.stderr)

sys.exit(summary())
