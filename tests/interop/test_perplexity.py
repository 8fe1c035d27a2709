#!/usr/bin/python3
"""`supra perplexity` on the trained demo model (tools/demo_model/) over held-out
text (tests/fixtures/demo/heldout.txt), against independent implementations of
llama-perplexity's rule on the same windows:

- the windows are rebuilt here from the training script's tokenization of the
  text (tests/fixtures/demo/heldout_tokens.json) and llama-perplexity's rule
  (tools/perplexity/perplexity.cpp: back-to-back windows of ctx, BOS first,
  second half scored; with --ppl-stride, windows every S tokens, last S scored);
- PyTorch (tests/interop/reference_models.py, f64) cross-entropy on those
  windows equals supra's to 1e-4 relative (f32 engine) and 1e-9 (f64);
- llama.cpp (node-llama-cpp, on supra's f32 GGUF of the model) scores the same
  windows from its logits and agrees to its f32 rounding (1e-5 relative);
- bits per byte uses the bytes of the scored tokens (GPT-2 byte alphabet decoded here).
Also: `logits --prompt` / `--text` tokenize with the model's tokenizer
(compared with llama.cpp's tokenization), and `validate A B --text F` runs on
the perplexity windows.

usage: test_perplexity.py PATH_TO_SUPRA"""
import json
import math
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
DEMO = os.path.join(ROOT, "tools", "demo_model")
HELDOUT_TEXT = os.path.join(ROOT, "tests", "fixtures", "demo", "heldout.txt")
HELDOUT_TOKENS = os.path.join(ROOT, "tests", "fixtures", "demo", "heldout_tokens.json")
LLAMA_DIR = os.path.join(HERE, "llama")
BOS = 510


def supra(*args):
    return subprocess.run([SUPRA, *map(str, args)], capture_output=True, text=True)


def llama_windows(tokens, ctx, stride, bos):
    """llama-perplexity's windows: (input ids, first scored row, target ids)."""
    if stride == 0:
        out = []
        for start in range(0, len(tokens) - ctx + 1, ctx):
            inp = list(tokens[start:start + ctx])
            inp[0] = bos
            first = ctx // 2
            out.append((inp, first, list(tokens[start + first + 1:start + ctx])))
        return out
    count = (len(tokens) - ctx + stride - 1) // stride
    return [(list(tokens[i * stride:i * stride + ctx]), ctx - stride - 1,
             list(tokens[i * stride + ctx - stride:i * stride + ctx])) for i in range(count)]


def torch_window_nll(model, windows):
    """Cross-entropy (summed, nats) of each window's scored rows, PyTorch f64."""
    logits = torch.from_numpy(reference_models.logits(model, [w[0] for w in windows]))
    out = []
    for b, (_, first, targets) in enumerate(windows):
        rows = logits[b, first:first + len(targets)]
        out.append(float(torch.nn.functional.cross_entropy(rows, torch.tensor(targets), reduction="sum")))
    return np.array(out)


def token_bytes_table():
    """id -> bytes of the demo's byte-level BPE vocabulary (GPT-2's byte-to-unicode map inverted)."""
    visible = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, n = {b: chr(b) for b in visible}, 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + n)
            n += 1
    decode = {c: b for b, c in chars.items()}
    tj = json.load(open(os.path.join(DEMO, "tokenizer.json")))
    table = {i: bytes(decode[c] for c in s) for s, i in tj["model"]["vocab"].items()}
    for t in tj["added_tokens"]:
        table[t["id"]] = b""  # special tokens: no text
    return table


def check_perplexity(label, j, windows, want_nll, rtol):
    n = sum(len(w[2]) for w in windows)
    want_ppl = math.exp(want_nll.sum() / n)
    got = np.array(j["window_nll"])
    err = abs(j["perplexity"] - want_ppl) / want_ppl
    check(f"{label}: {len(windows)} windows, {n} scored tokens, as llama-perplexity cuts them",
          j["windows"] == len(windows) and j["scored_tokens"] == n, f"(got {j['windows']} windows, {j['scored_tokens']} scored)"
          if j["windows"] != len(windows) or j["scored_tokens"] != n else "")
    check(f"{label}: perplexity {j['perplexity']:.6f} vs {want_ppl:.6f}: relative {err:.1e} < {rtol:g}",
          err < rtol and got.shape == want_nll.shape and np.allclose(got, want_nll, rtol=rtol, atol=0))
    return want_ppl


def main():
    if not os.path.isdir(os.path.join(LLAMA_DIR, "node_modules", "node-llama-cpp")):
        raise SystemExit("node-llama-cpp is not installed: run tools/install_deps.sh")
    heldout = json.load(open(HELDOUT_TOKENS))
    tokens = heldout[:-1]  # BOS + text, as llama-perplexity tokenizes it (no EOS)
    model = reference_models.load(DEMO, torch.float64)
    table = token_bytes_table()

    # Default windows: ctx 256 (the model's context), second halves scored.
    r = supra("perplexity", DEMO, "--text", HELDOUT_TEXT, "--json")
    if not check("supra perplexity DEMO --text heldout.txt --json exits 0", r.returncode == 0, r.stderr.strip()):
        return summary()
    j = json.loads(r.stdout)
    check(f"the text is {len(tokens)} tokens with BOS, as the training script's tokenizer made them",
          j["text_tokens"] == len(tokens), "" if j["text_tokens"] == len(tokens) else j["text_tokens"])
    windows = llama_windows(tokens, 256, 0, BOS)
    ref = torch_window_nll(model, windows)
    ppl = check_perplexity("ctx 256 vs PyTorch cross-entropy", j, windows, ref, 1e-4)
    n = sum(len(w[2]) for w in windows)
    nbytes = sum(len(table[t]) for w in windows for t in w[2])
    bpb = ref.sum() / nbytes / math.log(2)
    check(f"bits per token {j['bits_per_token']:.5f} = log2(PPL); bits per byte {j['bits_per_byte']:.5f} "
          f"= nll / {nbytes} bytes / ln 2 ({bpb:.5f})",
          abs(j["bits_per_token"] - math.log2(ppl)) < 1e-4 and j["scored_bytes"] == nbytes
          and abs(j["bits_per_byte"] - bpb) / bpb < 1e-4)
    check(f"... and near the held-out loss of training (PPL {ppl:.2f} vs e^2.94 = 18.9; second halves see more context)",
          ppl < 18.9 * 1.2)
    r = supra("perplexity", DEMO, "--text", HELDOUT_TEXT, "--json", "--precision", "f64")
    check_perplexity("f64 engine vs PyTorch f64", json.loads(r.stdout), windows, ref, 1e-9)
    r = supra("perplexity", DEMO, "--text", HELDOUT_TEXT)
    check("terminal output names the perplexity", r.returncode == 0 and f"perplexity {j['perplexity']:.4f}" in r.stdout,
          r.stdout.strip() + r.stderr)

    # Strided windows.
    r = supra("perplexity", DEMO, "--text", HELDOUT_TEXT, "--ctx", 128, "--stride", 100, "--json")
    strided = llama_windows(tokens, 128, 100, BOS)
    if check("--ctx 128 --stride 100 exits 0", r.returncode == 0, r.stderr.strip()):
        check_perplexity("ctx 128 stride 100 vs PyTorch", json.loads(r.stdout), strided, torch_window_nll(model, strided), 1e-4)

    # Refusals: too little text, a stride that does not fit.
    with tempfile.TemporaryDirectory() as tmp:
        short = os.path.join(tmp, "short.txt")
        open(short, "w").write("Licensed under the Apache License.")
        r = supra("perplexity", DEMO, "--text", short)
        check("too short a text: exit 2, one line naming the tokens needed",
              r.returncode == 2 and "needs at least 512 tokens" in r.stderr and r.stderr.count("\n") == 1, r.stderr)
        r = supra("perplexity", DEMO, "--text", HELDOUT_TEXT, "--ctx", 64, "--stride", 64)
        check("--stride >= --ctx: exit 2", r.returncode == 2 and "usage.perplexity" in r.stderr, r.stderr)

        # llama.cpp on supra's GGUF, the same windows, from its own logits.
        gguf = os.path.join(tmp, "demo.gguf")
        r = supra("convert", DEMO, gguf, "--dtype", "f32")
        if not check("supra convert DEMO demo.gguf --dtype f32", r.returncode == 0, r.stderr.strip()):
            return summary()
        r = supra("perplexity", gguf, "--text", HELDOUT_TEXT, "--json")
        if check("supra perplexity on the GGUF (its tokenizer.ggml.* keys) exits 0", r.returncode == 0, r.stderr.strip()):
            check_perplexity("GGUF vs PyTorch", json.loads(r.stdout), windows, ref, 1e-4)
        request = os.path.join(tmp, "windows.json")
        json.dump({"windows": [{"input": w[0], "first_row": w[1], "targets": w[2]} for w in windows]}, open(request, "w"))
        env = dict(os.environ, NODE_LLAMA_CPP_SKIP_DOWNLOAD="true")
        r = subprocess.run(["node", os.path.join(LLAMA_DIR, "perplexity.mjs"), gguf, request],
                           capture_output=True, text=True, cwd=LLAMA_DIR, env=env, timeout=900)
        if check("llama.cpp scores the windows", r.returncode == 0, r.stderr.strip()[-1000:]):
            llama = np.array(json.loads(r.stdout)["window_nll"])
            check_perplexity("ctx 256 vs llama.cpp", j, windows, llama, 1e-5)

        # Text in: logits --prompt / --text tokenize as llama.cpp does, and run the same forward pass.
        prompt = "Licensed under the Apache License, Version 2.0"
        r = subprocess.run(["node", os.path.join(LLAMA_DIR, "logits.mjs"), gguf, "[510]", prompt],
                           capture_output=True, text=True, cwd=LLAMA_DIR, env=env, timeout=600)
        ids = [BOS] + json.loads(r.stdout)["text_tokens"]
        out = os.path.join(tmp, "p.npy")
        r = supra("logits", DEMO, "--prompt", prompt, "--out", out, "--precision", "f64")
        got = np.load(out) if r.returncode == 0 else np.zeros(0)
        want = reference_models.logits(model, ids)
        check(f"logits --prompt: BOS + llama.cpp's {len(ids) - 1} ids of the prompt, rows = reference forward",
              got.shape == want.shape and np.allclose(got, want, rtol=0, atol=1e-9), f"{got.shape} vs {want.shape} {r.stderr}")
        text_file = os.path.join(tmp, "prompt.txt")
        open(text_file, "w").write(prompt)
        r = supra("logits", DEMO, "--text", text_file, "--out", out, "--precision", "f64")
        check("logits --text FILE = logits --prompt of its contents",
              r.returncode == 0 and np.array_equal(np.load(out), got), r.stderr)
        r = supra("logits", DEMO, "--prompt", prompt, "--tokens", "[1]", "--out", out)
        check("--prompt with --tokens: usage error (exit 2)", r.returncode == 2, r.stderr)

        r = supra("validate", DEMO, gguf, "--prompt", prompt, "--json")
        rep = json.loads(r.stdout) if r.stdout.startswith("{") else {}
        check(f"validate DEMO demo.gguf --prompt: one sequence of the prompt's {len(ids)} ids",
              r.returncode == 0 and rep.get("logits", {}).get("positions") == len(ids), r.stderr.strip())

        # validate A B --text F runs both models on the perplexity windows.
        r = supra("validate", DEMO, gguf, "--text", HELDOUT_TEXT, "--ctx", 128, "--json")
        rep = json.loads(r.stdout) if r.stdout.startswith("{") else {}
        n_win = len(llama_windows(tokens, 128, 0, BOS))
        check(f"validate DEMO demo.gguf --text: passes on {n_win} windows of 128",
              r.returncode == 0 and rep.get("passed") is True and rep.get("logits", {}).get("positions") == n_win * 128,
              "" if rep.get("passed") else r.stderr.strip() or rep.get("failed_checks"))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
