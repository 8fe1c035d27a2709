#!/usr/bin/python3
"""The summary a person reads after a bf16 -> f16 convert (issue 13): torch
counts, per tensor, the values f16 flushes to zero (underflow) and the finite
values that become inf (overflow), on a torch.save'd bf16 state dict where 30
tensors underflow and 2 overflow.
- the text summary's totals equal torch's; every overflowing tensor is listed
  with its counts; of the underflow-only tensors only the 5 worst are;
- --verbose lists every one; --json has the complete per-tensor counts.

usage: test_convert_summary.py PATH_TO_SUPRA"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check, summary  # noqa: E402

SUPRA = sys.argv[1]
LINE = re.compile(r"^    (\S+): (\d+) overflow, (\d+) underflow$")


def supra(*args):
    return subprocess.run([SUPRA, *args], capture_output=True, text=True)


def torch_counts(sd):
    """name -> (overflow, underflow) of the f16 cast, by torch's own rounding."""
    out = {}
    for k, t in sd.items():
        h = t.half()
        over = int((torch.isfinite(t) & torch.isinf(h)).sum())
        under = int(((t != 0) & (h == 0)).sum())
        if over or under:
            out[k] = (over, under)
    return out


def listed(stdout):
    return {m.group(1): (int(m.group(2)), int(m.group(3))) for m in map(LINE.match, stdout.splitlines()) if m}


def main():
    g = torch.Generator().manual_seed(11)
    sd = collections.OrderedDict()
    for i in range(30):  # tiny values, a different number of them per tensor
        t = torch.randn(64, 16, generator=g)
        t.view(-1)[: 10 + 7 * i] *= 1e-9
        sd[f"layers.{i:02d}.w"] = t.bfloat16()
    big = torch.randn(32, generator=g)
    big[:3] = torch.tensor([1e6, -3e5, 7e4])
    sd["huge.a"] = big.bfloat16()
    sd["huge.b"] = (torch.randn(16, generator=g) * 1e5).bfloat16()
    sd["fine"] = torch.randn(8, generator=g).bfloat16()
    want = torch_counts(sd)
    over_names = {k for k, (o, _) in want.items() if o}
    under_only = {k: u for k, (o, u) in want.items() if not o}
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "model.pt")
        torch.save(sd, src)
        r = supra("convert", src, os.path.join(tmp, "a.safetensors"), "--dtype", "f16")
        rows = listed(r.stdout)
        total_over = sum(o for o, _ in want.values())
        total_under = sum(u for _, u in want.values())
        check("torch sees 2 overflowing and 30 underflow-only tensors", len(over_names) == 2 and len(under_only) == 30)
        check("text: totals equal torch's counts", r.returncode == 0 and
              f"{total_over} values overflowed to inf/NaN, {total_under} nonzero values flushed to zero" in r.stdout,
              r.stdout + r.stderr)
        check("text: every overflowing tensor is listed with torch's counts",
              all(rows.get(k) == want[k] for k in over_names), rows)
        worst = sorted(under_only, key=lambda k: -under_only[k])[:5]
        shown = [k for k in rows if k in under_only]
        check("text: only the 5 worst underflow-only tensors are listed", sorted(shown) == sorted(worst)
              and all(rows[k] == want[k] for k in shown), shown)
        check("text: says how many more and where the rest is", "in 30 tensors" in r.stdout and "--verbose" in r.stdout,
              r.stdout)

        r = supra("convert", src, os.path.join(tmp, "b.safetensors"), "--dtype", "f16", "--verbose")
        check("--verbose: every tensor with torch's counts", listed(r.stdout) == want, r.stdout)

        r = supra("convert", src, os.path.join(tmp, "c.safetensors"), "--dtype", "f16", "--json")
        j = json.loads(r.stdout) if r.returncode == 0 else {}
        got = {k: (j.get("cast_overflow", {}).get(k, 0), u) for k, u in j.get("cast_underflow", {}).items()}
        for k in j.get("cast_overflow", {}):
            got.setdefault(k, (j["cast_overflow"][k], 0))
        check("--json: the complete per-tensor lists equal torch's", got == want, j)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
