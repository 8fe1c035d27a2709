#!/usr/bin/python3
"""supra's forward engine (`supra logits`) against an independent PyTorch
forward written from the HF modeling equations (reference_models.py), on the
tiny fixture models of every family (tests/fixtures/forward/: gpt2, gpt_neox,
llama with GQA + llama3 rope_scaling, qwen2, mistral with linear rope_scaling)
and on the trained demo model (tools/demo_model/, on held-out text): logits
and the hidden state after every layer and sub-step, in f32 and in f64.

The `supra logits` contract (issue 8), shared by this test and the engine:

  supra logits MODEL --tokens F --out OUT.npy [--positions all|last]
               [--precision f32|f64] [--dump-hidden OUT.npz] [--threads N]

  MODEL          any checkpoint `supra convert` reads (here: HF folders).
  --tokens F     a JSON array of ids -> OUT is [T, vocab]; a JSON list of
                 equal-length arrays -> [B, T, vocab]; or an integer .npy of
                 shape [T] or [B, T], with the same meaning.
  OUT.npy        row t = the logits after tokens 0..t. float32 by default;
                 with --precision f64 the whole forward runs in f64 (RoPE
                 tables included) and OUT is float64.
  --positions last   only the last position: [1, vocab] ([B, 1, vocab]).
  --dump-hidden OUT.npz  one array per state, [T, hidden] ([B, T, hidden]),
                 in OUT's dtype, keys:
      embed           after the token embedding (+ learned positions, GPT-2)
      layer.{i}.attn  the residual stream after layer i's attention sub-step
                      (parallel-residual NeoX: x + attn(ln1(x)), before the MLP)
      layer.{i}.mlp   after the whole layer i
      final_norm      after the output norm
  --threads N    the same bytes for every N.
  Bad input (a token id >= vocab, ...): a one-line error, exit code 3, and no
  OUT file.

Tolerances, relative L2 error ||got - ref|| / ||ref|| against the f64
reference: f32 < 1e-5, f64 < 1e-10 (logits and every hidden state).

usage: test_forward.py PATH_TO_SUPRA"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, HERE)
from interop_harness import check, summary  # noqa: E402
import reference_models  # noqa: E402

SUPRA = sys.argv[1]
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "forward")
FIXTURE_MODELS = ["gpt2", "gpt_neox", "llama_gqa", "qwen2", "mistral"]
DEMO = os.path.join(ROOT, "tools", "demo_model")
DEMO_TOKENS = os.path.join(ROOT, "tests", "fixtures", "demo", "heldout_tokens.json")
F32_TOL, F64_TOL = 1e-5, 1e-10


def rel_l2(got, ref):
    return float(np.linalg.norm(np.asarray(got, np.float64) - ref) / np.linalg.norm(ref))


def supra_logits(model, tokens_file, out, *extra):
    args = [SUPRA, "logits", model, "--tokens", tokens_file, "--out", out, *extra]
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    ok = check(f"  supra logits {' '.join(extra) or '(f32)'} exits 0", r.returncode == 0, r.stderr.strip()[-500:])
    return ok and os.path.exists(out)


def compare(label, got, ref, dtype, tol):
    shape_ok = got.dtype == dtype and got.shape == ref.shape
    check(f"  {label}: {dtype.__name__} {list(ref.shape)}", shape_ok,
          "" if shape_ok else f"(got {got.dtype} {list(got.shape)})")
    if shape_ok:
        err = rel_l2(got, ref)
        check(f"  {label}: relative L2 error {err:.2e} < {tol:g}", err < tol)


def compare_hidden(label, npz_path, ref_hidden, dtype, tol):
    """Every state within tol; on failure names the first state (in forward
    order) past it, where the bug is."""
    got = dict(np.load(npz_path))
    check(f"  {label}: npz keys are the {len(ref_hidden)} states", sorted(got) == sorted(ref_hidden),
          f"(missing {sorted(set(ref_hidden) - set(got))}, extra {sorted(set(got) - set(ref_hidden))})")
    errors = {}
    for key, ref in ref_hidden.items():  # the reference records them in forward order
        if key not in got:
            continue
        if got[key].dtype != dtype or got[key].shape != ref.shape:
            check(f"  {label}: {key} is {dtype.__name__} {list(ref.shape)}", False,
                  f"(got {got[key].dtype} {list(got[key].shape)})")
            continue
        errors[key] = rel_l2(got[key], ref)
    if errors:
        first_bad = next((k for k, e in errors.items() if not e < tol), None)
        worst = max(errors, key=errors.get)
        check(f"  {label}: every state's relative L2 error < {tol:g} (worst {errors[worst]:.2e}, {worst})",
              first_bad is None, f"-- first past it: {first_bad} ({errors.get(first_bad, 0):.2e})")


def check_model(label, folder, tokens, tmp):
    print(f"{label}:")
    name = os.path.basename(os.path.normpath(folder))
    tokens_file = os.path.join(tmp, f"{name}.tokens.json")
    with open(tokens_file, "w") as f:
        json.dump(tokens, f)
    ref64, hidden64 = reference_models.logits(folder, tokens, torch.float64, hidden=True)
    golden = os.path.join(folder, "golden_f64.npy")
    if os.path.exists(golden):
        check("  committed golden_f64.npy is the reference's output (fixtures are current)",
              rel_l2(np.load(golden), ref64) < 1e-13)

    out = lambda tag: os.path.join(tmp, f"{name}.{tag}")  # noqa: E731
    if supra_logits(folder, tokens_file, out("f32.npy"), "--dump-hidden", out("f32.npz")):
        compare("f32 logits", np.load(out("f32.npy")), ref64, np.float32, F32_TOL)
        compare_hidden("f32 hidden", out("f32.npz"), hidden64, np.float32, F32_TOL)
        if supra_logits(folder, tokens_file, out("t2.npy"), "--threads", "2"):
            check("  --threads 2 gives the same bytes as the default",
                  np.array_equal(np.load(out("t2.npy")), np.load(out("f32.npy"))))
    if supra_logits(folder, tokens_file, out("f64.npy"), "--precision", "f64", "--dump-hidden", out("f64.npz")):
        compare("f64 logits", np.load(out("f64.npy")), ref64, np.float64, F64_TOL)
        compare_hidden("f64 hidden", out("f64.npz"), hidden64, np.float64, F64_TOL)
    if supra_logits(folder, tokens_file, out("last.npy"), "--positions", "last"):
        compare("--positions last", np.load(out("last.npy")), ref64[..., -1:, :], np.float32, F32_TOL)


def check_token_inputs(folder, tokens, tmp):
    """One sequence as a flat JSON array and the batch as .npy mean the same."""
    print("token inputs (llama_gqa):")
    ref = reference_models.logits(folder, tokens, torch.float64)
    flat = os.path.join(tmp, "flat.json")
    with open(flat, "w") as f:
        json.dump(tokens[1], f)
    if supra_logits(folder, flat, os.path.join(tmp, "flat.npy")):
        compare("one sequence", np.load(os.path.join(tmp, "flat.npy")), ref[1], np.float32, F32_TOL)
    as_npy = os.path.join(tmp, "tokens.npy")
    np.save(as_npy, np.array(tokens, dtype=np.int64))
    if supra_logits(folder, as_npy, os.path.join(tmp, "npy.npy")):
        compare("tokens from .npy", np.load(os.path.join(tmp, "npy.npy")), ref, np.float32, F32_TOL)

    bad = os.path.join(tmp, "bad.json")
    vocab = json.load(open(os.path.join(folder, "config.json")))["vocab_size"]
    with open(bad, "w") as f:
        json.dump([1, 2, vocab], f)
    target = os.path.join(tmp, "bad.npy")
    r = subprocess.run([SUPRA, "logits", folder, "--tokens", bad, "--out", target], capture_output=True, text=True)
    check(f"  token id {vocab} (= vocab) is refused with exit code 3 and a one-line error",
          r.returncode == 3 and len(r.stderr.strip().splitlines()) == 1, f"(exit {r.returncode}: {r.stderr.strip()})")
    check("  ... and no output file is written", not os.path.exists(target))


def main():
    # An unknown subcommand with --help prints the top-level help and exits 0.
    r = subprocess.run([SUPRA, "logits", "--help"], capture_output=True, text=True)
    if r.returncode != 0 or "--tokens" not in r.stdout:
        check("supra logits is missing (the forward engine of issue 8)", False)
        return summary()
    with open(os.path.join(FIXTURES, "tokens.json")) as f:
        tokens = json.load(f)
    with open(DEMO_TOKENS) as f:
        demo_tokens = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        for name in FIXTURE_MODELS:
            check_model(name, os.path.join(FIXTURES, name), tokens, tmp)
        context = json.load(open(os.path.join(DEMO, "config.json")))["max_position_embeddings"]
        check_model("demo_model (held-out text)", DEMO, demo_tokens[:context], tmp)
        check_token_inputs(os.path.join(FIXTURES, "llama_gqa"), tokens, tmp)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
