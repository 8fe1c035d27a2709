#!/usr/bin/python3
"""supra's SRU / SRU++ engine against the authors' outputs and an independent
PyTorch implementation (tests/interop/sru_reference.py, written from
../shared/reference/sru.md).

The fixtures under tests/fixtures/sru were made by the authors' classes
(asappresearch/sru c2d44e6, tests/fixtures/sru/make_sru_fixtures.py): state
dicts, configs, inputs and their outputs. Checked here, at max relative error
max|got - want| / max|want| < 1e-5 (f32):
1. `supra logits --segment 0` (whole sequence) == the authors' logits.npy;
   default (the config's eval segment) == the authors' segment-wise eval
   (segment_logits.npy); `--form recurrent` (token by token, constant-size
   state) == the same; `--input` for bare modules == output.npy.
2. the same against the float64 reference (when torch is importable), and
   the reference against the authors' outputs (the reference is right).
3. planted traps (sru.md section 8) fail the bar: gate-major rows, swapped
   weight_c / bias halves, no causal mask, memory normalized; and a
   checkpoint whose rows were permuted to gate-major, run by supra.
4. `supra generate` gives the reference's greedy ids.
5. refusals: a config missing a field, a checkpoint missing / with an extra
   key or a wrong shape: exit 3 with a message naming them.

usage: test_sru.py PATH_TO_SUPRA"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check, summary  # noqa: E402

SUPRA = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "sru")
TOL = 1e-5
LMS = ["srupp_every1", "srupp_1m", "srupp_every2_prenorm_rescale", "srupp_last1_postnorm_noattnln", "sru_lm"]
BARE = ["sru_bidir", "srupp_bidir"]

try:
    import torch
    import sru_reference as ref
except ImportError:  # the committed authors' outputs are checked without torch
    torch = None


def run(*args):
    return subprocess.run([SUPRA, *map(str, args)], capture_output=True, text=True, timeout=600)


def supra(*args):
    r = run(*args)
    if r.returncode != 0:
        raise SystemExit(f"supra {' '.join(map(str, args))} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def max_rel(got, want):
    want = np.asarray(want, np.float64)
    return float(np.abs(np.asarray(got, np.float64) - want).max() / np.abs(want).max())


def fixture(name, f):
    return os.path.join(FIXTURES, name, f)


def supra_logits(tmp, name, *extra):
    out = os.path.join(tmp, name + "_".join(map(str, extra)).replace("-", "") + ".npy")
    supra("logits", os.path.join(FIXTURES, name), "--tokens", fixture(name, "tokens.json"), "--out", out, *extra)
    return np.load(out)


def load_reference(name, traps=()):
    sd = torch.load(fixture(name, "model.pt"))
    cfg = json.load(open(fixture(name, "sru_config.json")))
    return ref.Reference(sd, cfg, traps), cfg


def check_lm(tmp, name):
    whole = np.load(fixture(name, "logits.npy"))
    seg = np.load(fixture(name, "segment_logits.npy"))
    got_whole = supra_logits(tmp, name, "--segment", 0)
    got_seg = supra_logits(tmp, name)
    got_tok = supra_logits(tmp, name, "--form", "recurrent")
    got_tok_whole = supra_logits(tmp, name, "--form", "recurrent", "--segment", 0)
    check(f"{name}: whole sequence vs the authors", max_rel(got_whole, whole) < TOL, max_rel(got_whole, whole))
    check(f"{name}: segment-wise eval vs the authors", max_rel(got_seg, seg) < TOL, max_rel(got_seg, seg))
    check(f"{name}: token by token (segments) vs the authors", max_rel(got_tok, seg) < TOL, max_rel(got_tok, seg))
    check(f"{name}: token by token (unbounded) vs the authors' whole sequence", max_rel(got_tok_whole, whole) < TOL,
          max_rel(got_tok_whole, whole))
    if torch is None:
        return
    r, cfg = load_reference(name)
    tokens = json.load(open(fixture(name, "tokens.json")))
    S = cfg["eval"]["segment"]
    with torch.no_grad():
        ref_whole, ref_seg = r.lm_logits(tokens).numpy(), r.lm_logits(tokens, S).numpy()
    check(f"{name}: reference vs the authors", max(max_rel(ref_whole, whole), max_rel(ref_seg, seg)) < TOL,
          (max_rel(ref_whole, whole), max_rel(ref_seg, seg)))
    check(f"{name}: supra vs the reference", max(max_rel(got_whole, ref_whole), max_rel(got_seg, ref_seg)) < TOL,
          (max_rel(got_whole, ref_whole), max_rel(got_seg, ref_seg)))


def check_bare(tmp, name):
    want = np.load(fixture(name, "output.npy"))
    out = os.path.join(tmp, name + ".npy")
    supra("logits", os.path.join(FIXTURES, name), "--input", fixture(name, "input.npy"), "--out", out)
    got = np.load(out)
    check(f"{name}: --input output vs the authors", got.shape == want.shape and max_rel(got, want) < TOL,
          max_rel(got, want))
    if torch is None:
        return
    r, _ = load_reference(name)
    x = torch.from_numpy(np.load(fixture(name, "input.npy"))).to(torch.float64).transpose(0, 1)
    with torch.no_grad():
        h = r.rnn(x)[0].transpose(0, 1).numpy()
    check(f"{name}: reference vs the authors", max_rel(h, want) < TOL, max_rel(h, want))


def check_traps():
    """Each planted trap moves the reference's output past the bar."""
    cases = [("srupp_every1", "gate_major"), ("srupp_every1", "swap_v"), ("srupp_every1", "swap_b"),
             ("srupp_every1", "no_mask"), ("srupp_every2_prenorm_rescale", "memory_normalized"),
             ("sru_bidir", "gate_major")]
    for name, trap in cases:
        r, cfg = load_reference(name, [trap])
        with torch.no_grad():
            if cfg["lm"]:
                tokens = json.load(open(fixture(name, "tokens.json")))
                S = cfg["eval"]["segment"] if trap == "memory_normalized" else 0
                got = r.lm_logits(tokens, S).numpy()
                want = np.load(fixture(name, "segment_logits.npy" if S else "logits.npy"))
            else:
                x = torch.from_numpy(np.load(fixture(name, "input.npy"))).to(torch.float64).transpose(0, 1)
                got, want = r.rnn(x)[0].transpose(0, 1).numpy(), np.load(fixture(name, "output.npy"))
        err = max_rel(got, want)
        check(f"trap {trap} on {name} fails the bar", err > 100 * TOL, err)


def check_permuted_checkpoint(tmp):
    """supra reading gate-major rows (a converter that 'fixed' the layout) fails the bar."""
    name = "srupp_every1"
    folder = os.path.join(tmp, "gate_major_rows")
    shutil.copytree(os.path.join(FIXTURES, name), folder)
    sd = torch.load(fixture(name, "model.pt"))
    for key, w in sd.items():
        if key.endswith("linear3.weight"):
            O, k = 16, 3
            sd[key] = w.view(1, O, k, -1).permute(2, 0, 1, 3).reshape(k * O, -1).contiguous()
    torch.save(sd, os.path.join(folder, "model.pt"))
    out = os.path.join(tmp, "gate_major.npy")
    supra("logits", folder, "--tokens", fixture(name, "tokens.json"), "--out", out, "--segment", 0)
    err = max_rel(np.load(out), np.load(fixture(name, "logits.npy")))
    check("gate-major linear3 rows in the file fail the bar", err > 100 * TOL, err)


def check_generate():
    name = "srupp_every2_prenorm_rescale"
    r, cfg = load_reference(name)
    prompt = json.load(open(fixture(name, "tokens.json")))[0][:7]
    with torch.no_grad():
        want = r.greedy(prompt, 8, cfg["eval"]["segment"])
    got = json.loads(supra("generate", os.path.join(FIXTURES, name), "--tokens", json.dumps(prompt), "--max-new", 8,
                           "--json").stdout)["new"]
    check("generate (prompt segment-wise, then token by token) == reference greedy", got == want, (got, want))
    prompt = json.load(open(fixture("srupp_1m", "tokens.json")))[0][:53]  # two segments of 24, then 5
    r, cfg = load_reference("srupp_1m")
    with torch.no_grad():
        want = r.greedy(prompt, 4, cfg["eval"]["segment"])
    got = json.loads(supra("generate", os.path.join(FIXTURES, "srupp_1m"), "--tokens", json.dumps(prompt),
                           "--max-new", 4, "--json").stdout)["new"]
    check("generate on srupp_1m across segment boundaries == reference greedy", got == want, (got, want))


def check_refusals(tmp):
    name = "srupp_every1"
    tokens = fixture(name, "tokens.json")
    folder = os.path.join(tmp, "missing_field")
    shutil.copytree(os.path.join(FIXTURES, name), folder)
    cfg = json.load(open(fixture(name, "sru_config.json")))
    del cfg["rnn_kwargs"]["num_heads"]
    json.dump(cfg, open(os.path.join(folder, "sru_config.json"), "w"))
    r = run("logits", folder, "--tokens", tokens, "--out", os.path.join(tmp, "x.npy"))
    check("config without num_heads is refused naming it", r.returncode == 3 and "num_heads" in r.stderr,
          r.stderr.strip())
    if torch is None:
        return
    folder = os.path.join(tmp, "bad_keys")
    shutil.copytree(os.path.join(FIXTURES, name), folder)
    sd = torch.load(fixture(name, "model.pt"))
    del sd["rnn.rnn_lst.1.transform_module.alpha"]
    sd["rnn.rnn_lst.0.extra"] = torch.zeros(2)
    sd["rnn.rnn_lst.0.weight_c"] = torch.zeros(30)
    torch.save(sd, os.path.join(folder, "model.pt"))
    r = run("logits", folder, "--tokens", tokens, "--out", os.path.join(tmp, "x.npy"))
    named = all(s in r.stderr for s in ["rnn.rnn_lst.1.transform_module.alpha", "rnn.rnn_lst.0.extra",
                                        "rnn.rnn_lst.0.weight_c is [30]"])
    check("checkpoint with a missing, an extra and a misshapen key is refused listing all three",
          r.returncode == 3 and named, r.stderr.strip()[:300])
    check("no output left behind by a refusal", not os.path.exists(os.path.join(tmp, "x.npy")))


def check_inspect(tmp):
    out = supra("inspect", os.path.join(FIXTURES, "srupp_every2_prenorm_rescale")).stdout
    layers = [ln.split(":")[1].split(",")[0].strip() for ln in out.splitlines() if ln.strip().startswith("layer ")]
    check("inspect: attention in layers 1 and 3 of 4 (every 2)",
          layers == ["projected linear", "attention", "projected linear", "attention"], layers)
    check("inspect: the config's options are shown", "num_heads 3" in out and "rescale true" in out)
    skel = os.path.join(tmp, "skeleton.json")
    supra("inspect", fixture("sru_bidir", "model.pt"), "--emit-sru-config", skel)
    folder = os.path.join(tmp, "from_skeleton")
    os.makedirs(folder)
    shutil.copy(fixture("sru_bidir", "model.pt"), folder)
    shutil.copy(skel, os.path.join(folder, "sru_config.json"))
    r = run("logits", folder, "--input", fixture("sru_bidir", "input.npy"), "--out", os.path.join(tmp, "y.npy"))
    check("an unfilled config skeleton is refused", r.returncode == 3 and "FILL" not in r.stdout, r.stderr.strip())
    cfg = json.load(open(skel))
    real = json.load(open(fixture("sru_bidir", "sru_config.json")))
    for k, v in cfg["rnn_kwargs"].items():
        if isinstance(v, str) and v.startswith("FILL IN"):
            cfg["rnn_kwargs"][k] = real["rnn_kwargs"][k]
    json.dump(cfg, open(os.path.join(folder, "sru_config.json"), "w"))
    supra("logits", folder, "--input", fixture("sru_bidir", "input.npy"), "--out", os.path.join(tmp, "y.npy"))
    err = max_rel(np.load(os.path.join(tmp, "y.npy")), np.load(fixture("sru_bidir", "output.npy")))
    check("the skeleton, once filled in, runs the model", err < TOL, err)


def check_convert(tmp):
    """--layout srupp keeps the names; back to .pt: same keys, same order, bit-identical,
    and the state dict loads strictly into the reference's key set."""
    name = "srupp_every2_prenorm_rescale"
    src = torch.load(fixture(name, "model.pt"))
    for ext in ["safetensors", "h5", "npz"]:
        mid = os.path.join(tmp, f"{name}.{ext}")
        supra("convert", fixture(name, "model.pt"), mid, "--layout", "srupp")
        back = os.path.join(tmp, f"{name}_{ext}.pt")
        supra("convert", mid, back, "--layout", "srupp", "--model-config", fixture(name, "sru_config.json"))
        got = torch.load(back)
        same = list(got) == list(src) and all(
            got[k].dtype == src[k].dtype and got[k].shape == src[k].shape and
            got[k].numpy().tobytes() == src[k].numpy().tobytes() for k in src)
        check(f"convert .pt -> {ext} -> .pt (--layout srupp): same keys, order, bytes", same)
    r = run("convert", fixture(name, "model.pt"), os.path.join(tmp, "x.safetensors"), "--layout", "sru")
    check("--layout sru on an SRU++ model is refused", r.returncode == 2, r.stderr.strip())


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for name in LMS:
            check_lm(tmp, name)
        for name in BARE:
            check_bare(tmp, name)
        check_refusals(tmp)
        check_inspect(tmp)
        if torch is not None:
            check_traps()
            check_permuted_checkpoint(tmp)
            check_generate()
            check_convert(tmp)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
