#!/usr/bin/python3
"""torch.save as other projects call it: every pickle protocol (1-5), the zip and
the legacy (pre-1.6, _use_new_zipfile_serialization=False) layout, every dtype
Debian's torch 1.13 has. The fixtures are written here by torch.save itself;
supra converts each to .pt and torch.load(weights_only=True) of the result must
equal torch.load of the fixture bit for bit.

Before issue 13: legacy protocol 3-5 was refused as "no legacy magic number"
(the check hard-coded protocol 2; 4 and 5 put a FRAME before the magic), and
protocol 1 (text INT / LONG opcodes) was refused in both layouts.

usage: test_pytorch_protocols.py PATH_TO_SUPRA"""
import collections
import os
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check, summary  # noqa: E402

SUPRA = sys.argv[1]
DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
          torch.int16, torch.int8, torch.uint8, torch.bool]


def bits(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def state_dict():
    g = torch.Generator().manual_seed(13)
    sd = collections.OrderedDict()
    for dt in DTYPES:
        name = str(dt).replace("torch.", "")
        if dt.is_floating_point:
            t = torch.randn(5, 7, generator=g).to(dt)
            t[0, 0] = float("nan")
            t[0, 1] = -0.0
        elif dt == torch.bool:
            t = torch.rand(5, 7, generator=g) > 0.5
        else:
            info = torch.iinfo(dt)
            t = torch.randint(info.min, info.max, (5, 7), generator=g, dtype=dt)
            t[0, 0], t[0, 1] = info.min, info.max  # negative ints too
        sd[name] = t
        sd[name + ".T"] = t.t()  # a strided view of the same storage
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 4)
    return sd


def same(a, b):
    if list(a) != list(b):
        return False, f"names {list(a)} != {list(b)}"
    for k in a:
        x, y = a[k], b[k]
        if x.dtype != y.dtype or tuple(x.shape) != tuple(y.shape) or bits(x) != bits(y):
            return False, f"{k}: {x.dtype}{tuple(x.shape)} vs {y.dtype}{tuple(y.shape)}"
    return True, ""


def main():
    sd = state_dict()
    with tempfile.TemporaryDirectory() as tmp:
        for protocol in [1, 2, 3, 4, 5]:
            for legacy in [True, False]:
                layout = "legacy" if legacy else "zip"
                src = os.path.join(tmp, f"p{protocol}_{layout}.pt")
                torch.save(sd, src, pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy)
                out = os.path.join(tmp, f"p{protocol}_{layout}.out.pt")
                r = subprocess.run([SUPRA, "convert", src, out], capture_output=True, text=True)
                if r.returncode != 0:
                    check(f"protocol {protocol} {layout}: converts", False, r.stderr.strip())
                    continue
                ok, why = same(torch.load(out, weights_only=True), torch.load(src))
                check(f"protocol {protocol} {layout}: every dtype equals torch.load bit for bit", ok, why)
        # A pickle that is not a torch.save stream is still refused, whatever its protocol.
        import pickle
        for protocol in [1, 2, 4]:
            src = os.path.join(tmp, f"plain{protocol}.pt")
            with open(src, "wb") as f:
                pickle.dump({"a": [1, 2]}, f, protocol=protocol)
            r = subprocess.run([SUPRA, "inspect", src], capture_output=True, text=True)
            check(f"a plain protocol-{protocol} pickle is refused with exit 3", r.returncode == 3, r.stderr.strip())
    return summary()


if __name__ == "__main__":
    sys.exit(main())
