#!/usr/bin/python3
"""llama.cpp (node-llama-cpp's prebuilt binaries) loads supra's GGUF of the
demo Llama model (grouped-query attention, byte-level BPE vocabulary) and its
logits match an independent float64 PyTorch forward (reference_models.py) of
the original Hugging Face checkpoint: relative error < 1e-4 at f32; same top-1
token at every position for f16 and Q8_0.

usage: test_llamacpp.py PATH_TO_SUPRA"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from interop_harness import check, summary  # noqa: E402
import reference_models  # noqa: E402

SUPRA = sys.argv[1]
LLAMA_DIR = os.path.join(HERE, "llama")
TOKENS = [258, 72, 101, 108, 108, 111, 256, 257, 44, 32, 119, 111, 114, 108, 100, 33, 10, 84, 104, 101]


def supra(*args):
    r = subprocess.run([SUPRA, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"supra {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


# Byte-level BPE of the demo tokenizer: " the" -> "Ġt" (256) + "he" (257).
TEXT = "Hi the"
TEXT_TOKENS = [72, 105, 256, 257]


def llama_cpp_run(gguf):
    env = dict(os.environ, NODE_LLAMA_CPP_SKIP_DOWNLOAD="true")
    r = subprocess.run(["node", os.path.join(LLAMA_DIR, "logits.mjs"), gguf, json.dumps(TOKENS), TEXT],
                       capture_output=True, text=True, cwd=LLAMA_DIR, env=env, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"llama.cpp failed on {gguf}: {r.stderr.strip()[-2000:]}")
    out = json.loads(r.stdout)
    return np.array(out["logits"], dtype=np.float64), out["text_tokens"]


def main():
    if not os.path.isdir(os.path.join(LLAMA_DIR, "node_modules", "node-llama-cpp")):
        raise SystemExit("node-llama-cpp is not installed: run tools/install_deps.sh")
    with tempfile.TemporaryDirectory() as tmp:
        hf = os.path.join(tmp, "hf")
        supra("demo-model", hf, "--dtype", "bf16")
        reference = reference_models.logits(hf, TOKENS)
        ref_top = reference.argmax(axis=-1)

        for label, extra, exact in [("f32", ["--dtype", "f32"], True),
                                    ("bf16", [], False),
                                    ("f16", ["--dtype", "f16"], False),
                                    ("q8_0", ["--quantize", "q8_0"], False)]:
            gguf = os.path.join(tmp, f"demo-{label}.gguf")
            supra("convert", hf, gguf, *extra)
            got, text_tokens = llama_cpp_run(gguf)
            check(f"{label}: llama.cpp tokenizes with the converted vocabulary", text_tokens == TEXT_TOKENS,
                  f"({text_tokens})")
            check(f"{label}: logits shape", got.shape == reference.shape, f"{got.shape} vs {reference.shape}")
            if got.shape != reference.shape:
                continue
            rel = np.abs(got - reference).max() / np.abs(reference).max()
            same_top = int((got.argmax(axis=-1) == ref_top).sum())
            if label == "bf16":
                back = os.path.join(tmp, "back")
                # 1-D tensors were widened to F32 for llama.cpp; --dtype bf16 narrows them back exactly.
                supra("convert", gguf, back, "--dtype", "bf16")
                same = open(os.path.join(hf, "model.safetensors"), "rb").read() == \
                    open(os.path.join(back, "model.safetensors"), "rb").read()
                check("bf16: HF -> GGUF -> HF gives back the same model.safetensors, byte for byte", same)
            if exact:
                check(f"{label}: max relative error < 1e-4", rel < 1e-4, f"(rel {rel:.3e})")
            check(f"{label}: top-1 token agrees at every position", same_top == len(TOKENS),
                  f"({same_top}/{len(TOKENS)}, rel {rel:.3e})")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
