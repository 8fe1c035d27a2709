#!/usr/bin/python3
"""Interop: a Hugging Face folder converted to another folder (--dtype,
--max-shard-size) is still a model folder as transformers reads one:
config.json whose torch_dtype is the dtype of the written weights (read here
with PyTorch from the safetensors files, not from supra), and the tokenizer
and generation files byte for byte.

Usage: /usr/bin/python3 tests/interop/test_folder_side_files.py PATH_TO_SUPRA
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch

from interop_harness import check, summary

SUPRA = sys.argv[1] if len(sys.argv) > 1 else "supra"
TORCH_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
SIDE_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"]


def supra(*args):
    r = subprocess.run([SUPRA, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"supra {' '.join(args)} failed: {r.stderr}")


def safetensors_dtypes(folder):
    """torch dtypes of every tensor in the folder's .safetensors files (header parsed here)."""
    dtypes = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".safetensors"):
            continue
        with open(os.path.join(folder, name), "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        for tensor, entry in header.items():
            if tensor != "__metadata__":
                dtypes[tensor] = TORCH_DTYPES[entry["dtype"]]
    return dtypes


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


with tempfile.TemporaryDirectory() as tmp:
    hf = os.path.join(tmp, "hf")
    supra("demo-model", hf)
    with open(os.path.join(hf, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 258, "eos_token_id": 259}, f)
    with open(os.path.join(hf, "special_tokens_map.json"), "w") as f:
        json.dump({"bos_token": "<s>", "eos_token": "</s>"}, f)
    source_cfg = json.load(open(os.path.join(hf, "config.json")))

    for label, args, want in (("--dtype f16", ["--dtype", "f16"], torch.float16),
                              ("--dtype f32 --max-shard-size", ["--dtype", "f32", "--max-shard-size", "30KB"],
                               torch.float32)):
        out = os.path.join(tmp, label.replace(" ", "_").replace("-", ""))
        supra("convert", hf, out, *args)
        cfg_path = os.path.join(out, "config.json")
        if not check(f"{label}: config.json is there", os.path.exists(cfg_path)):
            continue
        cfg = json.load(open(cfg_path))
        dtypes = set(safetensors_dtypes(out).values())
        check(f"{label}: weights are {want}", dtypes == {want}, dtypes)
        check(f"{label}: torch_dtype names the weights' dtype",
              getattr(torch, cfg.get("torch_dtype", "missing"), None) == want, cfg.get("torch_dtype"))
        rest = {k: v for k, v in cfg.items() if k != "torch_dtype"}
        check(f"{label}: the rest of config.json is the input's",
              rest == {k: v for k, v in source_cfg.items() if k != "torch_dtype"})
        for name in SIDE_FILES:
            path = os.path.join(out, name)
            check(f"{label}: {name} carried byte for byte",
                  os.path.exists(path) and read_bytes(path) == read_bytes(os.path.join(hf, name)))
    sharded = os.path.join(tmp, "dtype_f32_maxshardsize")
    index = json.load(open(os.path.join(sharded, "model.safetensors.index.json")))
    check("sharded: the index maps every tensor to a shard that exists",
          all(os.path.exists(os.path.join(sharded, s)) for s in index["weight_map"].values())
          and len(set(index["weight_map"].values())) > 1)

sys.exit(summary())
