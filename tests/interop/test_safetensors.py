#!/usr/bin/python3
"""Interop: PyTorch tensors -> an independent safetensors writer (here) ->
`supra convert` (plain, sharded, --dtype f32/bf16/f16) -> an independent
safetensors parser (here) -> compared value for value with PyTorch.

Usage: /usr/bin/python3 tests/interop/test_safetensors.py PATH_TO_SUPRA
Prints one line per check and ends with `N passed, M failed`; exits non-zero
on any failure.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch

SUPRA = sys.argv[1] if len(sys.argv) > 1 else "supra"
DTYPE_TO_NAME = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
                 torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
                 torch.bool: "BOOL"}
NAME_TO_DTYPE = {v: k for k, v in DTYPE_TO_NAME.items()}
# Same-width integer views for bitwise comparison (NaN == NaN, -0 != +0).
BITS = {torch.float64: torch.int64, torch.float32: torch.int32, torch.float16: torch.int16,
        torch.bfloat16: torch.int16}
# Reference writer order (safetensors tensor.rs prepare: by dtype, descending, then name) for the dtypes used here.
RANK = ["I64", "F64", "F32", "I32", "BF16", "F16", "I16", "I8", "U8", "BOOL"]

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {what}")
    else:
        failed += 1
        print(f"FAIL  {what}")


# ---- an independent writer (safetensors README "Format") ---------------------------------

def tensor_bytes(t):
    t = t.contiguous()
    if t.numel() == 0:
        return b""
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return t.reshape(-1).view(torch.uint8).numpy().tobytes()


def write_safetensors(path, tensors, metadata):
    """Writes in dict order with no padding: deliberately not our writer's layout."""
    header = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name, t in tensors.items():
        b = tensor_bytes(t)
        header[name] = {"dtype": DTYPE_TO_NAME[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# ---- an independent parser ----------------------------------------------------

def read_safetensors(path, problems):
    """Returns (tensors, metadata, header_order); appends rule violations to `problems`."""
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header_text = data[8:8 + n]
    if n % 8 != 0:
        problems.append(f"{path}: header length {n} not a multiple of 8")
    if not header_text.startswith(b"{"):
        problems.append(f"{path}: header does not start with '{{'")
    header = json.loads(header_text.decode("utf-8"), object_pairs_hook=dict)
    metadata = header.pop("__metadata__", {})
    base = 8 + n
    end = 0
    order = []
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, stop = info["data_offsets"]
        if begin != end:
            problems.append(f"{path}: {name} starts at {begin}, expected {end}")
        end = stop
        order.append((RANK.index(info["dtype"]), name))
    if base + end != len(data):
        problems.append(f"{path}: {len(data) - base - end} trailing bytes")
    if order != sorted(order):
        problems.append(f"{path}: tensors not ordered by dtype then name")
    tensors = {}
    for name, info in header.items():
        dtype = NAME_TO_DTYPE[info["dtype"]]
        begin, stop = info["data_offsets"]
        elem = torch.tensor([], dtype=dtype).element_size()
        if (base + begin) % elem != 0:
            problems.append(f"{path}: {name} at file offset {base + begin} not aligned to {elem}")
        raw = bytearray(data[base + begin:base + stop])
        shape = info["shape"]
        if len(raw) == 0:
            t = torch.empty(shape, dtype=dtype)
        elif dtype == torch.bool:
            t = torch.frombuffer(raw, dtype=torch.uint8).to(torch.bool).reshape(shape)
        else:
            t = torch.frombuffer(raw, dtype=dtype).reshape(shape)
        tensors[name] = t
    return tensors, metadata


def read_output(path, problems):
    """A file, or a folder with model.safetensors or a sharded index."""
    if os.path.isfile(path):
        return read_safetensors(path, problems)
    index_path = os.path.join(path, "model.safetensors.index.json")
    if not os.path.exists(index_path):
        return read_safetensors(os.path.join(path, "model.safetensors"), problems)
    index = json.load(open(index_path))
    tensors, metadata = {}, {}
    for shard in sorted(set(index["weight_map"].values())):
        part, meta = read_safetensors(os.path.join(path, shard), problems)
        for name in part:
            if index["weight_map"].get(name) != shard:
                problems.append(f"{shard}: {name} not mapped to this shard")
        tensors.update(part)
        metadata.update(meta)
    if set(index["weight_map"]) != set(tensors):
        problems.append("weight_map and shards hold different tensor names")
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    if index["metadata"]["total_size"] != total:
        problems.append(f"total_size {index['metadata']['total_size']} != payload {total}")
    return tensors, metadata


def same_values(a, b):
    if a.dtype != b.dtype or list(a.shape) != list(b.shape):
        return False
    if a.numel() == 0:
        return True
    if a.dtype in BITS:
        return torch.equal(a.contiguous().view(BITS[a.dtype]), b.contiguous().view(BITS[b.dtype]))
    return torch.equal(a, b)


def make_tensors():
    g = torch.Generator().manual_seed(7)
    specials = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-40, -3e-39, 3.0e38, 70000.0,
                             1e-8, 65504.0, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -9])
    return {
        "model.embed.weight": torch.randn(300, 70, generator=g),
        "model.specials": specials,
        "model.layers.0.attn.weight": (torch.randn(33, 17, generator=g) * 10).to(torch.float16),
        "model.layers.0.mlp.weight": torch.randn(64, 40, generator=g).to(torch.bfloat16),
        "model.layers.1.norm": torch.tensor([1.5, float("nan"), float("inf"), -0.0]).to(torch.bfloat16),
        "positions": torch.arange(-50, 77, dtype=torch.int64) * 123456789,
        "mask": torch.rand(7, 9, generator=g) > 0.5,
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 12),
        "empty_bf16": torch.zeros(4, 0).to(torch.bfloat16),
        "counts": torch.randint(-100, 100, (11,), generator=g, dtype=torch.int32),
        "bytes": torch.randint(0, 256, (13,), generator=g, dtype=torch.uint8),
        "f64": torch.randn(5, generator=g, dtype=torch.float64),
    }


def run(args):
    r = subprocess.run([SUPRA] + args, capture_output=True, text=True)
    return r


def convert_and_compare(tmp, src, tensors, metadata, label, extra, expect):
    out = os.path.join(tmp, label)
    r = run(["convert", src, out] + extra)
    check(r.returncode == 0, f"{label}: supra convert exits 0 ({r.stderr.strip()})")
    if r.returncode != 0:
        return
    problems = []
    got, got_meta = read_output(out, problems)
    check(not problems, f"{label}: output follows the safetensors rules {problems[:3]}")
    check(set(got) == set(tensors), f"{label}: same tensor names")
    want_meta = dict(metadata)
    want_meta.setdefault("format", "pt")
    check(got_meta == want_meta, f"{label}: metadata kept ({got_meta})")
    for name, t in tensors.items():
        if name in got:
            want = expect(t)
            check(same_values(got[name], want), f"{label}: {name} {DTYPE_TO_NAME[want.dtype]} {list(want.shape)} matches")
    return out


def main():
    tensors = make_tensors()
    metadata = {"producer": "interop test", "note": "caf\u00e9"}
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "torch.safetensors")
        write_safetensors(src, tensors, metadata)
        floats = (torch.float64, torch.float32, torch.float16, torch.bfloat16)

        convert_and_compare(tmp, src, tensors, metadata, "plain.safetensors", [], lambda t: t)
        out = convert_and_compare(tmp, src, tensors, metadata, "sharded", ["--max-shard-size", "4KB"], lambda t: t)
        if out:
            # huggingface_hub's rule: greedy in state-dict order, a tensor over
            # the limit alone in its shard (transformers modeling_utils shard_checkpoint).
            groups, size = [[]], 0
            for name, t in tensors.items():
                n = t.numel() * t.element_size()
                if size > 0 and size + n > 4000:
                    groups.append([])
                    size = 0
                groups[-1].append(name)
                size += n
            index = json.load(open(os.path.join(out, "model.safetensors.index.json")))
            names = [f"model-{i + 1:05d}-of-{len(groups):05d}.safetensors" for i in range(len(groups))]
            want_map = {name: names[i] for i, g in enumerate(groups) for name in g}
            check(index["weight_map"] == want_map, f"sharded: {len(groups)} shards grouped as huggingface_hub does")
            check(sorted(os.listdir(out)) == sorted(names + ["model.safetensors.index.json"]), "sharded: file names")
        # Sharded input back to one file.
        if out:
            convert_and_compare(tmp, out, tensors, metadata, "unsharded.safetensors", [], lambda t: t)

        def cast(to):
            return lambda t: t.to(to) if t.dtype in floats else t

        convert_and_compare(tmp, src, tensors, metadata, "f32.safetensors", ["--dtype", "f32"], cast(torch.float32))
        convert_and_compare(tmp, src, tensors, metadata, "f32-sharded", ["--dtype", "f32", "--max-shard-size", "30KB",
                                                                         "--threads", "2"], cast(torch.float32))

        # Narrowing: PyTorch rounds to nearest even like supra; NaN payloads
        # differ between implementations, so compare NaN-ness separately.
        def narrowed(to):
            def f(t):
                return t.to(to) if t.dtype in floats else t
            return f

        for flag, to in (("bf16", torch.bfloat16), ("f16", torch.float16)):
            label = f"{flag}.safetensors"
            r = run(["convert", src, os.path.join(tmp, label), "--dtype", flag, "--json"])
            check(r.returncode == 0, f"{label}: supra convert --dtype {flag} exits 0 ({r.stderr.strip()})")
            if r.returncode != 0:
                continue
            report = json.loads(r.stdout)
            problems = []
            got, _ = read_output(os.path.join(tmp, label), problems)
            check(not problems, f"{label}: output follows the safetensors rules {problems[:3]}")
            want_overflow = {}
            for name, t in tensors.items():
                want = narrowed(to)(t)
                g = got[name]
                nan_w = torch.isnan(want.to(torch.float64)) if want.dtype in floats else None
                if nan_w is not None and want.numel():
                    nan_g = torch.isnan(g.to(torch.float64))
                    same = torch.equal(nan_w, nan_g) and same_values(
                        torch.where(nan_w, torch.zeros_like(want), want), torch.where(nan_g, torch.zeros_like(g), g))
                    finite_in = torch.isfinite(t.to(torch.float64))
                    n_over = int((finite_in & torch.isinf(want.to(torch.float64))).sum())
                    if n_over:
                        want_overflow[name] = n_over
                else:
                    same = same_values(g, want)
                check(same, f"{label}: {name} equals torch .to({to})")
            check(report["cast_overflow"] == want_overflow,
                  f"{label}: cast_overflow {report['cast_overflow']} == torch's count {want_overflow}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
