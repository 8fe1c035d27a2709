#!/usr/bin/python3
"""supra logits / generate on an SRU++ LM of ~52M parameters against the
authors' code on CPU (their C++ CPU kernel, Debian torch, no_grad), one run.

usage: bench/sru_bench.py AUTHORS_CHECKOUT build/supra [--tokens 1024] [--segment 512]

AUTHORS_CHECKOUT: asappresearch/sru at c2d44e6 (needs Debian's libtorch-dev:
the kernel is JIT-built on first import). The model is the enwik8 LM of
train_enwik8.py (V 205, n_d 2048, n_proj 512, 11 layers, attention in every
layer, 1 head), the authors' init with every parameter moved off it (as the
fixtures). Both sides evaluate the same tokens segment-wise as eval_model
does, and the logits are compared. Prints a Markdown section for
bench/RESULTS.md."""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures", "sru"))
import make_sru_fixtures as fx  # noqa: E402


def best_of(n, f):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkout")
    ap.add_argument("supra")
    ap.add_argument("--tokens", type=int, default=256)
    ap.add_argument("--segment", type=int, default=128)
    a = ap.parse_args()
    sru, enwik8 = fx.import_authors(os.path.abspath(a.checkout), "cpp")
    torch.set_grad_enabled(False)
    V, n_d, P, L, S, T = 205, 2048, 512, 11, a.segment, a.tokens
    torch.manual_seed(0)
    model = enwik8.Model(list(range(V)), fx.Args(n_d, L, P, 1, 1))
    kwargs = fx.full_kwargs(sru.SRUpp, dict(input_size=n_d, hidden_size=n_d, proj_size=P, num_layers=L))
    model.rnn = sru.SRUpp(**kwargs)
    fx.randomize(model, 1)
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    tokens = torch.randint(0, V, (1, T), generator=torch.Generator().manual_seed(2)).tolist()
    x = torch.tensor(tokens).t().contiguous()
    captured = []
    model.output_layer.register_forward_hook(lambda m, i, o: captured.append(o))

    def authors():
        captured.clear()
        model.set_mask(S, same_length=True)
        hidden, memory = model.init_hidden(1), [None] * L
        for i in range((T - 1) // S + 1):
            xs = x[i * S:(i + 1) * S]
            _, hidden, memory = model(xs, xs, hidden, memory=memory)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = {"kind": "srupp", "rnn_kwargs": kwargs, "lm": {"vocab_size": V, "emb_dim": n_d},
               "eval": {"segment": S, "same_length": True}}
        fx.save_model(tmp, fx.copy_model(model), cfg)
        tok_file = os.path.join(tmp, "tokens.json")
        json.dump(tokens, open(tok_file, "w"))
        for threads in (1, 2):
            torch.set_num_threads(threads)
            authors()  # warm-up
            t = best_of(2, authors)
            rows.append((f"authors' SRUpp (C++ CPU kernel, torch {torch.__version__}, {threads} thread(s))", T / t))
        want = torch.cat(captured).transpose(0, 1).numpy()
        out = os.path.join(tmp, "logits.npy")
        speeds = []
        for _ in range(2):
            r = subprocess.run([a.supra, "logits", tmp, "--tokens", tok_file, "--out", out], capture_output=True,
                               text=True, check=True)
            speeds.append(float(re.search(r"([0-9.]+) tokens/s", r.stdout).group(1)))
        rows.append(("supra logits (f32, 1 thread: the SRU path is single-threaded)", max(speeds)))
        got = np.load(out)
        err = float(np.abs(got.astype(np.float64) - want).max() / np.abs(want).max())
    # Decode latency on the 1M-parameter fixture (prefilling 4k tokens of the 52M model takes minutes here).
    small = os.path.join(HERE, "..", "tests", "fixtures", "sru", "srupp_1m")
    lat = []
    for segment in ("24", "0"):
        for ctx in (128, 4096):
            prompt = torch.randint(0, V, (ctx,), generator=torch.Generator().manual_seed(3)).tolist()
            r = subprocess.run([a.supra, "generate", small, "--tokens", json.dumps(prompt), "--max-new", "33", "--json",
                                "--segment", segment], capture_output=True, text=True, check=True)
            lat.append((segment, ctx, json.loads(r.stdout)["decode_ms_per_token"]))
    print(f"## SRU++ LM: supra vs the authors' code on CPU (bench/sru_bench.py)\n")
    print(f"Command: `/usr/bin/python3 bench/sru_bench.py /tmp/sru_authors build/supra --tokens {T} "
          f"--segment {S}` (authors' checkout at c2d44e6; Debian libtorch-dev for their kernel).")
    print(f"Model: enwik8 SRU++ LM, {params / 1e6:.1f} M parameters (V {V}, n_d {n_d}, n_proj {P}, {L} layers, "
          f"attention every layer, 1 head), fp32. {T} tokens, batch 1, evaluated segment-wise (segment {S}, "
          f"memory, same_length) by both. Machine: 2 shared cores, other builds running.\n")
    print("| implementation | tokens/s |\n|---|---|")
    for name, v in rows:
        print(f"| {name} | {v:.1f} |")
    print(f"\nsupra's logits vs the authors': max relative error {err:.2e}.\n")
    print("Generation: `supra generate tests/fixtures/sru/srupp_1m --max-new 33 --json` (1.0 M parameters, 5 "
          "attention layers), per-token decode latency after a prompt of 128 or 4096 tokens:\n")
    print("| attention | context 128: ms / token | context 4096: ms / token |\n|---|---|---|")
    for seg in ("24", "0"):
        ms = {ctx: v for s, ctx, v in lat if s == seg}
        name = "segment 24 + memory (the config's eval)" if seg == "24" else "unbounded (--segment 0)"
        print(f"| {name} | {ms[128]:.3f} | {ms[4096]:.3f} |")


if __name__ == "__main__":
    main()
