#!/usr/bin/python3
"""`supra generate` with text in and text out, on the trained demo model
(tools/demo_model/):

- greedy `generate --prompt` equals llama.cpp's greedy continuation
  (node-llama-cpp, its own tokenizer and sampler at temperature 0) on supra's
  f32 GGUF of the model, token for token, for several prompts;
- the text streamed to stdout is the decoding of the new ids (GPT-2 byte
  alphabet decoded here); generation stops at the tokenizer's EOS;
- sampling: a seed gives the same tokens every run and other seeds others;
  every token drawn with --top-k / --top-p lies in the support a numpy
  implementation of the filters computes from PyTorch reference logits
  (tests/interop/reference_models.py) at that step, and without the filters
  draws do leave that support (so the check can fail).

usage: test_generate_text.py PATH_TO_SUPRA"""
import json
import os
import shutil
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
LLAMA_DIR = os.path.join(HERE, "llama")
PROMPTS = ["Licensed under the Apache License", "You may obtain a copy of the License at",
           "THE SOFTWARE IS PROVIDED", "Redistribution and use in source and binary forms"]


def supra(*args):
    return subprocess.run([SUPRA, *map(str, args)], capture_output=True, text=True)


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
        table[t["id"]] = b""
    return table


def numpy_support(logits, temperature, top_k, top_p):
    """Ids a draw may return: softmax(logits / T), the top_k most probable, then the
    fewest most probable whose renormalized mass reaches top_p (Hugging Face's order)."""
    z = logits / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    order = np.argsort(-p, kind="stable")
    if top_k:
        order = order[:top_k]
    q = p[order] / p[order].sum()
    if top_p < 1:
        mass_before = np.concatenate([[0.0], np.cumsum(q)[:-1]])
        order = order[mass_before < top_p]
    return set(order.tolist())


def sample(prompt, seed, *flags, max_new=40):
    r = supra("generate", DEMO, "--prompt", prompt, "--max-new", max_new, "--seed", seed, "--precision", "f64",
              "--json", *flags)
    return json.loads(r.stdout) if r.returncode == 0 else {"error": r.stderr}


def check_support(model, label, runs, temperature, top_k, top_p):
    """Every drawn id in the numpy support of its step; returns how many draws fell outside."""
    outside = draws = 0
    for run in runs:
        seq = run["prompt"] + run["new"]
        logits = reference_models.logits(model, seq[:-1])
        for t, tok in enumerate(run["new"]):
            row = logits[len(run["prompt"]) - 1 + t]
            draws += 1
            outside += tok not in numpy_support(row, temperature, top_k, top_p)
    return outside, draws


def main():
    if not os.path.isdir(os.path.join(LLAMA_DIR, "node_modules", "node-llama-cpp")):
        raise SystemExit("node-llama-cpp is not installed: run tools/install_deps.sh")
    model = reference_models.load(DEMO, torch.float64)
    table = token_bytes_table()
    max_new = 24
    with tempfile.TemporaryDirectory() as tmp:
        gguf = os.path.join(tmp, "demo.gguf")
        r = supra("convert", DEMO, gguf, "--dtype", "f32")
        if not check("supra convert DEMO demo.gguf --dtype f32", r.returncode == 0, r.stderr.strip()):
            return summary()
        request = os.path.join(tmp, "prompts.json")
        json.dump({"prompts": PROMPTS, "max_new": max_new}, open(request, "w"))
        env = dict(os.environ, NODE_LLAMA_CPP_SKIP_DOWNLOAD="true")
        r = subprocess.run(["node", os.path.join(LLAMA_DIR, "generate.mjs"), gguf, request],
                           capture_output=True, text=True, cwd=LLAMA_DIR, env=env, timeout=600)
        if not check("llama.cpp generates greedily on the GGUF", r.returncode == 0, r.stderr.strip()[-1000:]):
            return summary()
        llama = json.loads(r.stdout)["results"]
        for prompt, want in zip(PROMPTS, llama):
            for source in (DEMO, gguf):
                r = supra("generate", source, "--prompt", prompt, "--max-new", max_new, "--json")
                got = json.loads(r.stdout) if r.returncode == 0 else {}
                name = "GGUF" if source == gguf else "HF folder"
                same = got.get("prompt") == want["prompt_ids"] and got.get("new") == want["new"]
                check(f"greedy {prompt!r} ({name}): prompt ids and {len(want['new'])} new ids = llama.cpp's", same,
                      "" if same else f"\n  supra {got.get('prompt')} {got.get('new')}\n"
                                      f"  llama {want['prompt_ids']} {want['new']} {r.stderr}")
            r = supra("generate", DEMO, "--prompt", prompt, "--max-new", max_new)
            text = b"".join(table[t] for t in want["new"]).decode("utf-8", errors="replace")
            same = r.returncode == 0 and r.stdout == text + "\n"
            check(f"streamed text of {prompt!r} = the new ids decoded", same, "" if same else f"{r.stdout!r} vs {text!r}")

        # EOS ends generation: a copy of the model whose tokenizer_config names llama.cpp's 4th greedy token as EOS.
        stop = llama[0]["new"][3]
        vocab = {i: tok for tok, i in json.load(open(os.path.join(DEMO, "tokenizer.json")))["model"]["vocab"].items()}
        eos_model = os.path.join(tmp, "eos_model")
        shutil.copytree(DEMO, eos_model)
        config = json.load(open(os.path.join(eos_model, "tokenizer_config.json")))
        config["eos_token"] = vocab[stop]
        json.dump(config, open(os.path.join(eos_model, "tokenizer_config.json"), "w"))
        r = supra("generate", eos_model, "--prompt", PROMPTS[0], "--max-new", max_new, "--json")
        got = json.loads(r.stdout) if r.returncode == 0 else {}
        want = llama[0]["new"][:llama[0]["new"].index(stop) + 1]
        check(f"EOS = token {stop}: generation stops right after it ({len(want)} ids) and says so",
              got.get("new") == want and got.get("stopped_at_eos") is True,
              "" if got.get("new") == want else f"{got} {r.stderr}")

        # Sampling: reproducible with --seed, different across seeds.
        prompt = PROMPTS[0]
        a, b = sample(prompt, 7, "--temperature", 0.9), sample(prompt, 7, "--temperature", 0.9)
        c = sample(prompt, 8, "--temperature", 0.9)
        check("--seed 7 twice: the same tokens", "new" in a and a["new"] == b["new"], a.get("error", ""))
        check("--seed 8: other tokens", "new" in c and c["new"] != a["new"])
        greedy = supra("generate", DEMO, "--prompt", prompt, "--max-new", 40, "--json", "--precision", "f64")
        check("sampled tokens differ from greedy ones", a.get("new") != json.loads(greedy.stdout)["new"])
        r = supra("generate", DEMO, "--prompt", prompt, "--temperature", 0.9, "--top-p", 1.5)
        check("--top-p 1.5: usage error (exit 2)", r.returncode == 2, r.stderr)

        # Support of the filters against numpy, 3 seeds x 40 steps each.
        for label, temperature, top_k, top_p, flags in [
                ("--top-k 3", 1.0, 3, 1.0, ("--top-k", 3)),
                ("--top-p 0.6", 1.0, 0, 0.6, ("--top-p", 0.6)),
                ("--temperature 1.3 --top-k 10 --top-p 0.8", 1.3, 10, 0.8,
                 ("--temperature", 1.3, "--top-k", 10, "--top-p", 0.8))]:
            runs = [sample(p, s, *flags) for s, p in zip((1, 2, 3), PROMPTS)]
            if not check(f"{label}: 3 runs", all("new" in r for r in runs), [r.get("error", "") for r in runs]):
                continue
            outside, draws = check_support(model, label, runs, temperature, top_k, top_p)
            check(f"{label}: all {draws} draws inside the numpy support", outside == 0 and draws > 0, f"{outside} outside")
        runs = [sample(p, s, "--temperature", 1.0) for s, p in zip((1, 2, 3), PROMPTS)]
        outside, draws = check_support(model, "no filter", runs, 1.0, 3, 1.0)
        check(f"without --top-k, {outside} of {draws} draws fall outside the top-3 (the support check can fail)",
              outside > 0)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
