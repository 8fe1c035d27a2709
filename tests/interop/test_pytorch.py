#!/usr/bin/python3
"""PyTorch interop: Debian's torch 1.13 is the independent reader and writer.

- supra's .pt files open with torch.load(weights_only=True) and hold the same
  tensors, bit for bit, as the torch.save fixtures they came from (every
  dtype, tied weights, offset / transposed / strided views, nested training
  checkpoints, legacy format, sharded index);
- torch.save files convert to safetensors (checked by a parser written here)
  and back to .pt bit-exact; .npz -> .pt matches np.load;
- malicious and malformed files fail with exit code 3 and leave no output.

usage: test_pytorch.py PATH_TO_SUPRA"""
import collections
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check, summary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "fixtures", "pytorch")
NPFIX = os.path.join(HERE, "..", "fixtures", "numpy")
SUPRA = sys.argv[1]

ST_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
             "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
             "BOOL": torch.bool}


def supra(*args):
    return subprocess.run([SUPRA, *args], capture_output=True, text=True)


def bits(t):
    """Raw bytes of a tensor, so NaNs and -0.0 compare exactly."""
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def same(a, b):
    """Two name -> tensor maps hold the same tensors bit for bit (same order)."""
    if list(a) != list(b):
        return False, f"names {list(a)} != {list(b)}"
    for k in a:
        x, y = a[k], b[k]
        if x.dtype != y.dtype or tuple(x.shape) != tuple(y.shape) or bits(x) != bits(y):
            return False, f"tensor {k}: {x.dtype}{tuple(x.shape)} vs {y.dtype}{tuple(y.shape)}"
    return True, ""


def read_safetensors(path):
    """An independent safetensors parser: u64 header length, JSON, raw bytes."""
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    out = collections.OrderedDict()
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, end = e["data_offsets"]
        buf = bytearray(raw[8 + n + b:8 + n + end])
        dt = ST_DTYPES[e["dtype"]]
        if dt == torch.bfloat16:
            t = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16) if buf else torch.empty(0, dtype=dt)
        else:
            t = torch.frombuffer(buf, dtype=dt) if buf else torch.empty(0, dtype=dt)
        out[name] = t.reshape(e["shape"])
    return out


def convert_and_load(tmp, src, out_name, *flags):
    out = os.path.join(tmp, out_name)
    r = supra("convert", src, out, *flags)
    if r.returncode != 0:
        print(r.stderr)
        return None
    return torch.load(out, weights_only=True)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        # Fixture -> supra .pt -> torch.load(weights_only=True): same as torch.load of the fixture.
        for name, flags, unwrap in [("basic", [], None), ("tied", [], None), ("views", [], None),
                                    ("deep", [], "model"), ("params", ["--strip-module-prefix"], None),
                                    ("nested", ["--strip-module-prefix"], "state_dict"), ("legacy", [], None)]:
            src = os.path.join(FIX, name + ".pt")
            ours = convert_and_load(tmp, src, name + ".out.pt", *flags)
            theirs = torch.load(src)
            if unwrap:
                theirs = theirs[unwrap]
            if name == "deep":
                theirs = collections.OrderedDict([("encoder.w", theirs["encoder"]["w"]), ("decoder.w", theirs["decoder"]["w"])])
            theirs = collections.OrderedDict((k.replace("module.", "").replace("_orig_mod.", ""), v.detach())
                                             for k, v in theirs.items())
            ok, why = (False, "convert failed") if ours is None else same(ours, theirs)
            check(f"{name}.pt -> supra .pt loads in torch {torch.__version__} with weights_only, bit-exact", ok, why)

        # The sharded checkpoint as one .pt.
        ours = convert_and_load(tmp, os.path.join(FIX, "sharded"), "sharded.pt")
        theirs = collections.OrderedDict()
        for shard in ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"]:
            theirs.update(torch.load(os.path.join(FIX, "sharded", shard)))
        ok, why = (False, "convert failed") if ours is None else same(ours, theirs)
        check("sharded index -> one .pt", ok, why)

        # A bigger state dict (several 8 MiB chunks, every dtype), through safetensors and back.
        g = torch.Generator().manual_seed(7)
        big = collections.OrderedDict()
        big["emb"] = torch.randn(1500, 1024, generator=g)  # 6 MB
        big["w16"] = torch.randn(3000, 2000, generator=g).half()  # 12 MB, more than one chunk
        big["wbf"] = torch.randn(700, 300, generator=g).bfloat16()
        big["ids"] = torch.randint(-2**62, 2**62, (1000,), generator=g)
        big["mask"] = torch.rand(77, generator=g) > 0.5
        big["special"] = torch.tensor([float("nan"), float("inf"), -0.0, 1e-45])
        big["t"] = torch.randn(64, 48, generator=g).t()  # saved non-contiguous
        src = os.path.join(tmp, "big.pt")
        torch.save(big, src)
        st = os.path.join(tmp, "big.safetensors")
        r = supra("convert", src, st)
        check("torch.save -> safetensors", r.returncode == 0, r.stderr.strip())
        # safetensors orders by dtype then name: compare as maps.
        got = read_safetensors(st)
        ok = set(got) == set(big) and all(same({k: got[k]}, {k: big[k]})[0] for k in big)
        check("safetensors values equal torch's", ok)
        back = convert_and_load(tmp, st, "back.pt")
        ok = back is not None and set(back) == set(big) and all(same({k: back[k]}, {k: big[k]})[0] for k in big)
        check("pt -> safetensors -> pt is bit-exact", ok)
        # Python's zipfile checks our CRCs and sees 64-byte aligned storages.
        with zipfile.ZipFile(os.path.join(tmp, "back.pt")) as z:
            bad = z.testzip()
            aligned = True
            raw = open(os.path.join(tmp, "back.pt"), "rb").read()
            for info in z.infolist():
                if "/data/" in info.filename:
                    h = info.header_offset
                    at = h + 30 + int.from_bytes(raw[h + 26:h + 28], "little") + int.from_bytes(raw[h + 28:h + 30], "little")
                    aligned &= at % 64 == 0
        check("zipfile.testzip finds no bad CRC; storages 64-byte aligned", bad is None and aligned, "" if bad is None else bad)

        # --torch-wrap state_dict: the open_lm --pretrained layout.
        wrapped = convert_and_load(tmp, os.path.join(FIX, "basic.pt"), "wrapped.pt", "--torch-wrap", "state_dict")
        ok = wrapped is not None and list(wrapped) == ["state_dict"] and same(wrapped["state_dict"], torch.load(os.path.join(FIX, "basic.pt")))[0]
        check("--torch-wrap state_dict", ok)

        # .npz -> .pt: torch sees what numpy sees.
        ours = convert_and_load(tmp, os.path.join(NPFIX, "basic.npz"), "from_npz.pt", "--exclude", "^u(16|32|64)$")
        arrays = np.load(os.path.join(NPFIX, "basic.npz"))
        ok = ours is not None and all(bits(ours[k]) == np.ascontiguousarray(arrays[k]).tobytes()
                                      and tuple(ours[k].shape) == arrays[k].shape for k in ours) and len(ours) == 11
        check("npz -> pt equals np.load", ok)
        r = supra("convert", os.path.join(NPFIX, "basic.npz"), os.path.join(tmp, "u16.pt"), "--only", "^u16$")
        check("u16 (no torch 1.13 storage) is refused with pytorch.501", r.returncode == 3 and "[pytorch.501]" in r.stderr,
              r.stderr.strip())

        # Malicious / malformed inputs: exit 3, nothing written.
        for name, err in [("evil_system.pt", "pytorch.201"), ("evil_eval.pt", "pytorch.201"), ("evil_custom.pt", "pytorch.201"),
                          ("evil_os.pt", "pytorch.201"), ("truncated.pt", "zip.101"), ("bad_crc.pt", "zip.110"),
                          ("missing_storage.pt", "pytorch.104")]:
            out = os.path.join(tmp, "bad", "x.safetensors")
            r = supra("convert", os.path.join(FIX, name), out)
            check(f"{name} refused [{err}], nothing left", r.returncode == 3 and f"[{err}]" in r.stderr
                  and not os.path.exists(os.path.join(tmp, "bad")), r.stderr.strip())
    return summary()


if __name__ == "__main__":
    sys.exit(main())
