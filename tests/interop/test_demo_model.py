#!/usr/bin/python3
"""The trained demo model (tools/demo_model/, made by tools/train_demo_model.py)
is what its TRAINING.md says, and llama.cpp runs it through supra's GGUF:

- the committed weights give the held-out loss TRAINING.md reports (reference
  forward, f64), far below the untrained ln(vocab);
- supra converts it to GGUF f32; llama.cpp (node-llama-cpp) tokenizes the
  held-out text exactly as the training script's BPE did
  (tests/fixtures/demo/heldout_tokens.json), and its logits on held-out tokens
  match the reference forward of the HF original: relative L2 error < 1e-4.

usage: test_demo_model.py PATH_TO_SUPRA"""
import json
import math
import os
import re
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
HELDOUT = os.path.join(ROOT, "tests", "fixtures", "demo")
LLAMA_DIR = os.path.join(HERE, "llama")


def heldout_loss(model, tokens, context):
    """Mean next-token loss in windows of `context` predictions (as the training script measures it)."""
    total, count = 0.0, 0
    for start in range(0, len(tokens) - 1, context):
        window = tokens[start:start + context + 1]
        logits = reference_models.logits(model, window[:-1])
        shifted = logits - logits.max(-1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        total -= logp[np.arange(len(window) - 1), window[1:]].sum()
        count += len(window) - 1
    return total / count


def main():
    if not os.path.isdir(os.path.join(LLAMA_DIR, "node_modules", "node-llama-cpp")):
        raise SystemExit("node-llama-cpp is not installed: run tools/install_deps.sh")
    config = json.load(open(os.path.join(DEMO, "config.json")))
    tokens = json.load(open(os.path.join(HELDOUT, "heldout_tokens.json")))
    text = open(os.path.join(HELDOUT, "heldout.txt")).read()
    model = reference_models.load(DEMO, torch.float64)

    reported = re.search(r"held-out loss after training \| ([0-9.]+) nats", open(os.path.join(DEMO, "TRAINING.md")).read())
    loss = heldout_loss(model, tokens, config["max_position_embeddings"])
    check("TRAINING.md reports the held-out loss", reported is not None)
    if reported:
        check(f"held-out loss of the committed weights {loss:.4f} = TRAINING.md's {reported.group(1)}",
              abs(loss - float(reported.group(1))) < 1e-3)
    check(f"... well below an untrained model's ln(vocab) = {math.log(config['vocab_size']):.2f}",
          loss < math.log(config["vocab_size"]) - 2)

    with tempfile.TemporaryDirectory() as tmp:
        gguf = os.path.join(tmp, "demo.gguf")
        r = subprocess.run([SUPRA, "convert", DEMO, gguf, "--dtype", "f32"], capture_output=True, text=True)
        if not check("supra convert tools/demo_model demo.gguf --dtype f32 exits 0", r.returncode == 0, r.stderr.strip()):
            return summary()
        window = tokens[:64]
        env = dict(os.environ, NODE_LLAMA_CPP_SKIP_DOWNLOAD="true")
        r = subprocess.run(["node", os.path.join(LLAMA_DIR, "logits.mjs"), gguf, json.dumps(window), text],
                           capture_output=True, text=True, cwd=LLAMA_DIR, env=env, timeout=600)
        if not check("llama.cpp loads the GGUF", r.returncode == 0, r.stderr.strip()[-1000:]):
            return summary()
        out = json.loads(r.stdout)
        got_ids = out["text_tokens"]
        first_diff = next((i for i, (a, b) in enumerate(zip(got_ids, tokens[1:-1])) if a != b), None)
        check(f"llama.cpp tokenizes the held-out text into the training script's {len(tokens) - 2} ids",
              got_ids == tokens[1:-1], f"(got {len(got_ids)} ids, first difference at {first_diff})")
        got = np.array(out["logits"], dtype=np.float64)
        ref = reference_models.logits(model, window)
        err = np.linalg.norm(got - ref) / np.linalg.norm(ref)
        check(f"llama.cpp logits on 64 held-out tokens: relative L2 error {err:.2e} < 1e-4",
              got.shape == ref.shape and err < 1e-4)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
