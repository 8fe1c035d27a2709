#!/usr/bin/python3
"""Split GGUF (llama.cpp's gguf-split layout: "<name>-00001-of-00003.gguf",
split.no / split.count / split.tensors.count):
- a set written by gguf-py (split_max_tensors) reads as one model from any
  member, and GGUF -> GGUF merges it back into one file, blocks unchanged;
- a missing member is refused naming the file it expected (gguf.130);
- `supra convert ... out.gguf --max-shard-size` writes a set that gguf-py
  reads member by member with the right split keys, and that llama.cpp
  (node-llama-cpp) loads from its first file with the same logits as the
  unsplit file.

usage: test_gguf_split.py PATH_TO_SUPRA"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from interop_harness import check, summary  # noqa: E402
import ggml_producer  # noqa: E402

SUPRA = sys.argv[1]
CACHE = os.path.join(tempfile.gettempdir(), f"supra-interop-gguf-py-{os.getuid()}")
LLAMA_DIR = os.path.join(HERE, "llama")
TOKENS = [258, 72, 101, 108, 108, 111, 256, 257, 44, 32, 119]


def run(*args):
    return subprocess.run([SUPRA, *args], capture_output=True, text=True)


def supra(*args):
    r = run(*args)
    if r.returncode != 0:
        raise SystemExit(f"supra {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def write_split_set(gguf, tmp, rng):
    """Five tensors, two per file, by gguf-py; returns name -> (type, bytes)."""
    w = gguf.GGUFWriter(os.path.join(tmp, "set.gguf"), arch="wildtest", split_max_tensors=2)
    w.add_string("general.name", "split set")
    stored = {}
    for i, qtype in enumerate(["Q4_K", "IQ4_NL", "F32", "Q8_0", "IQ2_XS"]):
        if qtype == "F32":
            data = rng.standard_normal((2, 256), dtype=np.float32)
            w.add_tensor(f"t.{i}", data)
            stored[f"t.{i}"] = (qtype, data.tobytes())
            continue
        blocks = ggml_producer.quantize(qtype, rng.standard_normal((2, 256), dtype=np.float32))
        w.add_tensor(f"t.{i}", np.frombuffer(blocks, dtype=np.uint8).reshape(2, -1),
                     raw_dtype=getattr(gguf.GGMLQuantizationType, qtype))
        stored[f"t.{i}"] = (qtype, blocks)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return stored


def check_read_set(gguf, tmp, stored):
    members = sorted(glob.glob(os.path.join(tmp, "set-*-of-*.gguf")))
    check("gguf-py wrote a 3-file set", len(members) == 3, members)
    for m in members:
        report = json.loads(supra("inspect", m, "--json"))
        names = [t["name"] for t in report["tensors"]]
        check(f"inspect {os.path.basename(m)} shows the whole set", names == list(stored) and len(report["files"]) == 3,
              f"{names} {report['files']}")
        check(f"... without the split keys", not any(k.startswith("gguf.split.") for k in report["metadata"]),
              [k for k in report["metadata"] if "split" in k])
    merged = os.path.join(tmp, "merged.gguf")
    supra("convert", members[1], merged)
    reader = gguf.GGUFReader(merged)
    got = {t.name: (t.tensor_type.name, bytes(t.data.tobytes())) for t in reader.tensors}
    check("GGUF split -> one GGUF keeps every tensor's type and bytes", got == stored, sorted(got))
    check("... and has no split keys", not any(k.startswith("split.") for k in reader.fields), list(reader.fields))
    check("... and keeps the first file's KVs", "general.name" in reader.fields)
    os.rename(members[2], members[2] + ".away")
    r = run("inspect", members[0])
    check("a missing member is refused naming it (gguf.130)",
          r.returncode == 3 and "gguf.130" in r.stderr and os.path.basename(members[2]) in r.stderr, r.stderr.strip())
    os.rename(members[2] + ".away", members[2])


def llama_logits(gguf_path):
    env = dict(os.environ, NODE_LLAMA_CPP_SKIP_DOWNLOAD="true")
    r = subprocess.run(["node", os.path.join(LLAMA_DIR, "logits.mjs"), gguf_path, json.dumps(TOKENS)],
                       capture_output=True, text=True, cwd=LLAMA_DIR, env=env, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"llama.cpp failed on {gguf_path}: {r.stderr.strip()[-2000:]}")
    return np.array(json.loads(r.stdout)["logits"], dtype=np.float64)


def check_write_set(gguf, tmp):
    hf = os.path.join(tmp, "hf")
    supra("demo-model", hf)
    whole = os.path.join(tmp, "whole.gguf")
    supra("convert", hf, whole, "--dtype", "f32")
    supra("convert", hf, os.path.join(tmp, "parts.gguf"), "--dtype", "f32", "--max-shard-size", "400KB")
    members = sorted(glob.glob(os.path.join(tmp, "parts-*-of-*.gguf")))
    n = len(members)
    check("--max-shard-size on GGUF output writes a set named like gguf-split", n >= 2 and
          all(os.path.basename(m) == f"parts-{i + 1:05d}-of-{n:05d}.gguf" for i, m in enumerate(members)), members)
    check("... and no unsplit file", not os.path.exists(os.path.join(tmp, "parts.gguf")))
    total = sum(len(gguf.GGUFReader(m).tensors) for m in members)
    for i, m in enumerate(members):
        f = gguf.GGUFReader(m).fields
        keys = [int(f[k].parts[f[k].data[0]][0]) if k in f else None for k in ("split.no", "split.count", "split.tensors.count")]
        types = [f[k].types[0].name if k in f else None for k in ("split.no", "split.count", "split.tensors.count")]
        check(f"part {i + 1}: split.no/count/tensors.count = {i}/{n}/{total} as u16/u16/i32 (gguf-py)",
              keys == [i, n, total] and types == ["UINT16", "UINT16", "INT32"], f"{keys} {types}")
        check(f"part {i + 1}: architecture only in the first part", ("general.architecture" in f) == (i == 0))
    if not os.path.isdir(os.path.join(LLAMA_DIR, "node_modules", "node-llama-cpp")):
        raise SystemExit("node-llama-cpp is not installed: run tools/install_deps.sh")
    a, b = llama_logits(whole), llama_logits(members[0])
    check("llama.cpp loads the split set; logits equal the unsplit file's", a.shape == b.shape and np.array_equal(a, b),
          f"max diff {np.abs(a - b).max() if a.shape == b.shape else a.shape}")


def main():
    rng = np.random.default_rng(3)
    with tempfile.TemporaryDirectory() as tmp:
        gguf = ggml_producer.gguf_py(CACHE)
        stored = write_split_set(gguf, tmp, rng)
        check_read_set(gguf, tmp, stored)
        check_write_set(gguf, tmp)
    summary()


if __name__ == "__main__":
    main()
