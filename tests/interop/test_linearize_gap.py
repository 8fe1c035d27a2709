#!/usr/bin/python3
"""The summary `supra linearize` prints at initialization, against PyTorch.

1. (b) the attention gap: per layer and head, ||o_lin - o_soft|| / ||o_soft||
   over every row of every sequence, where o_soft is the source's softmax
   head (tests/interop/reference_models.py, the source HF folder, float64)
   and o_lin the SUPRA head (tests/interop/supra_reference.py on the
   checkpoint linearize wrote: feature MLP, decayed sums, GroupNorm), both
   before out_proj and both fed the source's own normed stream at that
   layer; `out_error` the same after out_proj. supra's numbers (f32) agree to
   relative 1e-4: GQA + lightning, MHA + retnet + --qk-norm, and a hybrid
   (--target hf, layer 0 kept softmax: reported as softmax, no numbers).
2. (a) the KLD mean and same-top-1 share of the linearized model against the
   source equal those computed here from the two reference models' logits,
   and the printed `supra validate` command gives the same report.
3. --no-gap and --dry-run run no model (at_init is null); the text output
   has the per-layer lines.

usage: test_linearize_gap.py PATH_TO_SUPRA"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check, summary  # noqa: E402
import reference_models  # noqa: E402
from test_linearize import make_llama_folder  # noqa: E402
from test_supra_forward import reference_model  # noqa: E402

SUPRA = sys.argv[1]
GAP_TOL = 1e-4  # supra computes in f32, the references in f64


def supra(*args):
    r = subprocess.run([SUPRA, *map(str, args)], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"supra {' '.join(map(str, args))} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def reference_gap(src, out, target, ids):
    """[{layer, attention, head_error, out_error}] and the per-position KLD and top-1 agreement."""
    config, weights = reference_models.load(src, torch.float64)
    with torch.no_grad():
        src_logits, rec = reference_models.forward(config, weights, ids, record_attention=True)
    model = reference_model(out, target)
    model.cfg.exact_angles = True  # as supra's engine and the HF reference
    H, dv = model.cfg.n_heads, model.cfg.v_head_dim
    layers = []
    for l, block in enumerate(model.layers):
        if not block.linear:
            layers.append({"layer": l, "attention": "softmax"})
            continue
        diff, ref, out_diff, out_ref = torch.zeros(H, dtype=torch.float64), torch.zeros(H, dtype=torch.float64), 0.0, 0.0
        with torch.no_grad():
            for b in range(ids.shape[0]):
                lin = block.attention.heads_parallel(rec[f"layer.{l}.attn_in"][b])
                soft = rec[f"layer.{l}.attn_heads"][b]
                diff += (lin - soft).view(-1, H, dv).pow(2).sum(dim=(0, 2))
                ref += soft.view(-1, H, dv).pow(2).sum(dim=(0, 2))
                projected = F.linear(lin, block.attention.out_proj.weight.double())
                out_diff += float((projected - rec[f"layer.{l}.attn_out"][b]).pow(2).sum())
                out_ref += float(rec[f"layer.{l}.attn_out"][b].pow(2).sum())
        layers.append({"layer": l, "attention": "linear", "head_error": (diff / ref).sqrt().tolist(),
                       "out_error": (out_diff / out_ref) ** 0.5})
    with torch.no_grad():
        lin_logits = torch.stack([model(ids[b], "parallel") for b in range(ids.shape[0])])
    log_a, log_b = src_logits.log_softmax(-1), lin_logits.log_softmax(-1)
    kld = (log_a.exp() * (log_a - log_b)).sum(-1).flatten()
    top1 = (src_logits.argmax(-1) == lin_logits.argmax(-1)).double().flatten()
    return layers, kld, top1


def rel(a, b):
    return abs(a - b) / abs(b)


def check_case(tmp, label, src, args, target="open_lm"):
    out = os.path.join(tmp, label)
    g = torch.Generator().manual_seed(len(label))
    ids = torch.randint(0, 100, (2, 40), generator=g)
    tokens = os.path.join(tmp, label + ".tokens.json")
    json.dump(ids.tolist(), open(tokens, "w"))
    r = supra("linearize", src, out, "--target", target, "--seed", 3, "--tokens", tokens, "--json", *args)
    at_init = json.loads(r.stdout)["at_init"]
    want, kld, top1 = reference_gap(src, out, target, ids)
    got = at_init["attention_gap"]
    kinds = [l["attention"] for l in got] == [l["attention"] for l in want]
    check(f"{label}: layer kinds {[l['attention'] for l in got]}", kinds and at_init["rows"] == ids.numel())
    worst = 0.0
    for g_l, w_l in zip(got, want):
        if w_l["attention"] == "linear" and g_l["attention"] == "linear":
            errs = [rel(a, b) for a, b in zip(g_l["head_error"], w_l["head_error"])] + [rel(g_l["out_error"], w_l["out_error"])]
            worst = max([worst] + errs) if len(g_l["head_error"]) == len(w_l["head_error"]) else float("inf")
        elif g_l["attention"] == "softmax":
            worst = worst if "head_error" not in g_l else float("inf")
    sample = next(l for l in want if l["attention"] == "linear")
    check(f"{label}: (b) per-head gap = PyTorch's (e.g. layer {sample['layer']}: "
          f"{', '.join(f'{e:.3f}' for e in sample['head_error'])}), worst rel diff {worst:.1e} < {GAP_TOL:g}",
          worst < GAP_TOL)
    logits = at_init["validate"]["logits"]
    check(f"{label}: (a) KLD mean {logits['kld']['mean']:.4g} = PyTorch's {kld.mean():.4g}",
          rel(logits["kld"]["mean"], float(kld.mean())) < 1e-3)
    check(f"{label}: (a) same top-1 {logits['same_top1']['value']:.3f} = PyTorch's {top1.mean():.3f}",
          abs(logits["same_top1"]["value"] - float(top1.mean())) <= 1.0 / ids.numel())
    cmd = shlex.split(at_init["validate_command"])
    again = subprocess.run([SUPRA, *cmd[1:], "--json"], capture_output=True, text=True, timeout=600)
    same = again.returncode in (0, 6) and json.loads(again.stdout)["logits"] == logits
    check(f"{label}: the printed `{at_init['validate_command'][:40]}...` gives the same report", same, again.stderr.strip())


def main():
    with tempfile.TemporaryDirectory() as tmp:
        gqa = make_llama_folder(os.path.join(tmp, "gqa_src"), hidden=64, heads=4, kv_heads=2, seed=6)
        mha = make_llama_folder(os.path.join(tmp, "mha_src"), hidden=64, heads=4, kv_heads=4, seed=7)
        check_case(tmp, "gqa-lightning", gqa, [])
        check_case(tmp, "mha-retnet-qknorm", mha, ["--decay", "retnet", "--qk-norm"])
        check_case(tmp, "hybrid-hf", gqa, ["--keep-softmax", "0"], target="hf")

        for flag in ("--no-gap", "--dry-run"):
            j = json.loads(supra("linearize", gqa, os.path.join(tmp, "skip" + flag), flag, "--json").stdout)
            check(f"{flag}: no model is run (at_init null)", j["at_init"] is None)
        text = supra("linearize", gqa, os.path.join(tmp, "text"), "--gap-tokens", 16).stdout
        check("text: the summary's (a) and (b) with a line per layer",
              "on 16 random ids below 100 (seed 0)" in text and "--random-tokens 16 --seed 0" in text and
              "(b) the gap uptraining has to close" in text and "layer   1: out " in text, text[-600:])
    return summary()


if __name__ == "__main__":
    sys.exit(main())
