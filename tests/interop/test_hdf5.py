#!/usr/bin/python3
"""Interop with h5py (the real consumer and producer of HDF5 files).

- supra's .h5 read by h5py and compared value for value with the source
  tensors (made by torch), f16 seen as float16, bf16 as uint16 bits + attr.
- h5py-made fixtures (Keras-like nesting, chunked + gzip, bool, scalars,
  empty, big-endian) read by supra, written to safetensors, and compared with
  h5py's own reading.
- malformed files: clear error, exit code 3, no output left.
Usage: /usr/bin/python3 test_hdf5.py PATH_TO_SUPRA
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check, summary  # noqa: E402

SUPRA = sys.argv[1]
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "hdf5")

ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
             "I16": "<i2", "I8": "i1", "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "u1"}
TORCH_ST = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
            torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
            torch.uint8: "U8", torch.bool: "BOOL"}


def run(*args):
    return subprocess.run([SUPRA, *args], capture_output=True, text=True)


def raw_bytes(t):
    """A torch tensor's bytes (bf16/bool via a same-size integer view)."""
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return t.contiguous().numpy().tobytes()


def write_safetensors(path, tensors):
    """A minimal safetensors writer (the format is a JSON header + raw bytes)."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = raw_bytes(t)
        header[name] = {"dtype": TORCH_ST[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_safetensors(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        arr = np.frombuffer(data[8 + n + a : 8 + n + b], dtype=ST_DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = (e["dtype"], arr)
    return out


def source_tensors():
    g = torch.Generator().manual_seed(0)
    return {
        "model.embed.weight": torch.randn(33, 16, generator=g),
        "model/layers.0/attn.q": torch.randn(8, 16, generator=g).to(torch.float16),
        "bf16.w": (torch.randn(5, 7, generator=g) * 100).to(torch.bfloat16),
        "f64": torch.randn(3, generator=g, dtype=torch.float64),
        "i64": torch.arange(-6, 6, dtype=torch.int64).reshape(3, 4),
        "i8": torch.arange(-4, 4, dtype=torch.int8),
        "u8": torch.arange(0, 250, 10, dtype=torch.uint8),
        "mask": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 4),
    }


def test_our_h5_in_h5py(tmp):
    src = source_tensors()
    st = os.path.join(tmp, "src.safetensors")
    write_safetensors(st, src)
    out = os.path.join(tmp, "out.h5")
    r = run("convert", st, out)
    check("convert safetensors -> h5", r.returncode == 0, r.stderr)
    with h5py.File(out, "r") as f:
        check("root attr format", f.attrs["format"] == "supra.tensors", dict(f.attrs))
        check("root attr format_version", int(f.attrs["format_version"]) == 1)
        by_name = {d.attrs["name"]: d for d in f["tensors"].values()}
        check("every tensor present", sorted(by_name) == sorted(src), sorted(by_name))
        check("'/' percent-encoded", "model%2Flayers.0%2Fattn.q" in f["tensors"])
        for name, t in src.items():
            d = by_name[name]
            a = d[()]
            dt = d.attrs["dtype"]
            if t.dtype == torch.bfloat16:
                ok = dt == "BF16" and a.dtype == np.uint16 and np.array_equal(a, t.view(torch.int16).numpy().view(np.uint16))
            elif t.dtype == torch.bool:
                ok = dt == "BOOL" and a.dtype == np.uint8 and np.array_equal(a.astype(bool), t.numpy())
            elif t.dtype == torch.float16:
                ok = a.dtype == np.float16 and np.array_equal(a, t.numpy())
            else:
                ok = a.dtype == t.numpy().dtype and a.shape == tuple(t.shape) and np.array_equal(a, t.numpy())
            check(f"h5py reads {name} ({dt}) value for value", ok, f"{a.dtype} {a.shape}")
            if d.size:
                check(f"{name} is contiguous", d.chunks is None and d.id.get_offset() is not None)

    # f16 cast by supra compared with torch's own rounding.
    out16 = os.path.join(tmp, "out16.h5")
    r = run("convert", st, out16, "--dtype", "f16")
    check("convert --dtype f16", r.returncode == 0, r.stderr)
    with h5py.File(out16, "r") as f:
        d = f["tensors/model.embed.weight"]
        check("f16 seen as float16", d.dtype == np.float16, d.dtype)
        check("f16 values match torch's rounding", np.array_equal(d[()], src["model.embed.weight"].to(torch.float16).numpy()))

    # h5 -> safetensors -> h5 -> safetensors is bit-exact.
    back = os.path.join(tmp, "back.safetensors")
    r = run("convert", out, back)
    again = read_safetensors(back)
    ok = r.returncode == 0 and all(again[n][1].tobytes() == raw_bytes(t) for n, t in src.items())
    check("h5 -> safetensors round trip is bit-exact", ok, r.stderr)


def test_h5py_fixtures(tmp):
    for fixture in ("keras_like.h5", "chunked.h5", "mixed.h5"):
        path = os.path.join(FIXTURES, fixture)
        out = os.path.join(tmp, fixture + ".safetensors")
        r = run("convert", path, out)
        check(f"supra reads {fixture}", r.returncode == 0, r.stderr)
        if r.returncode != 0:
            continue
        ours = read_safetensors(out)
        expected = {}
        with h5py.File(path, "r") as f:
            f.visititems(lambda n, o: expected.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) and o.dtype.kind != "O" else None)
        check(f"{fixture}: same tensor names", sorted(ours) == sorted(expected), f"{sorted(ours)} vs {sorted(expected)}")
        for name, want in expected.items():
            if name not in ours:
                continue
            dt, got = ours[name]
            want = np.asarray(want)
            if want.dtype == bool:
                ok = dt == "BOOL" and np.array_equal(got.astype(bool), want)
            else:
                ok = got.shape == want.shape and np.array_equal(got, want.astype(want.dtype.newbyteorder("<")))
            check(f"{fixture}: {name} equals h5py's values", ok, f"{dt} {got.shape} vs {want.dtype} {want.shape}")


def test_malformed(tmp):
    for fixture, error_id in (("truncated.h5", "hdf5.101"), ("absurd_shape.h5", "hdf5.106")):
        outdir = os.path.join(tmp, "out-" + fixture)
        os.mkdir(outdir)
        r = run("convert", os.path.join(FIXTURES, fixture), os.path.join(outdir, "x.safetensors"))
        check(f"{fixture}: exit 3 with [{error_id}]", r.returncode == 3 and f"[{error_id}]" in r.stderr, r.stderr)
        check(f"{fixture}: no output left", os.listdir(outdir) == [], os.listdir(outdir))


with tempfile.TemporaryDirectory() as tmp:
    test_our_h5_in_h5py(tmp)
    test_h5py_fixtures(tmp)
    test_malformed(tmp)
sys.exit(summary())
