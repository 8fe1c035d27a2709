#!/usr/bin/python3
"""Trains supra's demo model: a small Llama-family model with grouped-query
attention, on the license texts that Debian's base-files package installs on
every Debian machine (/usr/share/common-licenses), with Debian's PyTorch, and
writes it in Hugging Face layout: config.json, model.safetensors (f32),
tokenizer.json (a byte-level BPE trained here, tools/demo_bpe.py),
tokenizer_config.json, and TRAINING.md with the figures of the run.

Apache-2.0 is held out as validation text (a copy and its token ids go to
tests/fixtures/demo/). The forward pass is tests/interop/reference_models.py,
the same code the interop tests hold supra's engine to.

Reproducible: fixed seeds, one thread, deterministic algorithms; the same
machine, torch build and BLAS give the same bytes (checked by running it
twice). Debian's torch calls whatever libblas.so.3 is installed: the reference
BLAS works but is ~8x slower than OpenBLAS, with which the committed model was
trained (TRAINING.md names the library). Without installing it system-wide:

  apt-get download libopenblas0-pthread && dpkg-deb -x libopenblas0-pthread_*.deb /tmp/openblas
  LD_LIBRARY_PATH=/tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread \
      /usr/bin/python3 tools/train_demo_model.py     # ~5 CPU minutes
The corpus files are checked against their SHA-256 sums so that a different
base-files release fails loudly instead of training another model.
CI never retrains: the outputs are committed.

usage: /usr/bin/python3 tools/train_demo_model.py [--out tools/demo_model] [--steps N]"""
import argparse
import hashlib
import json
import math
import os
import sys
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before the BLAS is loaded: one thread, one reduction order
import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_bpe  # noqa: E402
import reference_models  # noqa: E402
from hf_checkpoint_io import write_safetensors  # noqa: E402

LICENSES = "/usr/share/common-licenses"
# base-files 12.4+deb12u11 (Debian 12); symlinks (GPL, LGPL, GFDL) are left out.
CORPUS = {
    "Artistic": "b7fd9b73ea99602016a326e0b62e6646060d18febdd065ceca8bb482208c3d88",
    "BSD": "5d588eb3b157d52112afea935c88a7ff9efddc1e2d95a42c25d3b96ad9055008",
    "CC0-1.0": "a2010f343487d3f7618affe54f789f5487602331c0a8d03f49e9a7c547cf0499",
    "GFDL-1.2": "d8e94ae5fdb5433fcae2961aeb1a8cf17174d6f4a0465d24bf37dd8a038bd439",
    "GFDL-1.3": "110535522396708cea37c72a802c5e7e81391139f5f7985631c93ef242b206a4",
    "GPL-1": "d77d235e41d54594865151f4751e835c5a82322b0e87ace266567c3391a4b912",
    "GPL-2": "8177f97513213526df2cf6184d8ff986c675afb514d4e68a404010521b880643",
    "GPL-3": "3972dc9744f6499f0f9b2dbf76696f2ae7ad8af9b23dde66d6af86c9dfb36986",
    "LGPL-2": "681e386e44a19d7d0674b4320272c90e66b6610b741e7e6305f8219c42e85366",
    "LGPL-2.1": "dc626520dcd53a22f727af3ee42c770e56c97a64fe3adb063799d8ab032fe551",
    "LGPL-3": "e3a994d82e644b03a792a930f574002658412f62407f5fee083f2555c5f23118",
    "MPL-1.1": "f849fc26a7a99981611a3a370e83078deb617d12a45776d6c4cada4d338be469",
    "MPL-2.0": "fab3dd6bdab226f1c08630b1dd917e11fcb4ec5e1e020e2c16f83a0a13863e85",
}
HELDOUT = ("Apache-2.0", "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30")
SPECIALS = ["<|bos|>", "<|eos|>"]

SHAPE = dict(vocab=512, hidden=128, layers=4, heads=4, kv_heads=2, ffn=352, context=256)
TRAIN = dict(seed=1234, steps=400, batch=8, lr=3e-3, min_lr=3e-4, warmup=30, weight_decay=0.1,
             betas=(0.9, 0.95), clip=1.0, init_std=0.02, threads=1)


def read_license(name, sha256):
    path = os.path.join(LICENSES, name)
    with open(path, "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise SystemExit(f"{path}: not the base-files 12.4 text this model was trained on (SHA-256 differs)")
    return data.decode("ascii")


def hf_config(tok):
    s = SHAPE
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": s["vocab"],
            "hidden_size": s["hidden"], "intermediate_size": s["ffn"], "num_hidden_layers": s["layers"],
            "num_attention_heads": s["heads"], "num_key_value_heads": s["kv_heads"], "hidden_act": "silu",
            "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": s["context"],
            "tie_word_embeddings": False, "torch_dtype": "float32",
            "bos_token_id": tok.specials["<|bos|>"], "eos_token_id": tok.specials["<|eos|>"]}


def init_weights(config, gen):
    """GPT-2-style init: N(0, 0.02); the projections into the residual stream
    scaled by 1/sqrt(2 * layers); norm gains 1. In the HF tensor order."""
    h, f, v = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    hd = h // config["num_attention_heads"]
    kv = config["num_key_value_heads"] * hd
    std, resid = TRAIN["init_std"], TRAIN["init_std"] / math.sqrt(2 * config["num_hidden_layers"])
    w = {}

    def normal(name, rows, cols, s=std):
        w[name] = torch.randn(rows, cols, generator=gen) * s

    normal("model.embed_tokens.weight", v, h)
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = torch.ones(h)
        normal(p + "self_attn.q_proj.weight", h, h)
        normal(p + "self_attn.k_proj.weight", kv, h)
        normal(p + "self_attn.v_proj.weight", kv, h)
        normal(p + "self_attn.o_proj.weight", h, h, resid)
        w[p + "post_attention_layernorm.weight"] = torch.ones(h)
        normal(p + "mlp.gate_proj.weight", f, h)
        normal(p + "mlp.up_proj.weight", f, h)
        normal(p + "mlp.down_proj.weight", h, f, resid)
    w["model.norm.weight"] = torch.ones(h)
    normal("lm_head.weight", v, h)
    return {k: t.requires_grad_() for k, t in w.items()}


def mean_nll(config, w, stream, context):
    """Mean next-token loss over `stream` cut into windows of `context` predictions."""
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(stream) - 1, context):
            window = torch.tensor(stream[start:start + context + 1]).unsqueeze(0)
            if window.shape[1] < 2:
                break
            logits, _ = reference_models.forward(config, w, window[:, :-1])
            loss = torch.nn.functional.cross_entropy(logits[0], window[0, 1:], reduction="sum")
            total, count = total + loss.item(), count + window.shape[1] - 1
    return total / count


def learning_rate(step):
    if step < TRAIN["warmup"]:
        return TRAIN["lr"] * (step + 1) / TRAIN["warmup"]
    progress = (step - TRAIN["warmup"]) / max(1, TRAIN["steps"] - TRAIN["warmup"])
    return TRAIN["min_lr"] + 0.5 * (TRAIN["lr"] - TRAIN["min_lr"]) * (1 + math.cos(math.pi * progress))


def train(config, w, stream, gen, log):
    decay = [t for k, t in w.items() if t.dim() == 2]
    no_decay = [t for k, t in w.items() if t.dim() == 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": TRAIN["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=TRAIN["lr"], betas=TRAIN["betas"])
    data = torch.tensor(stream)
    context, batch = SHAPE["context"], TRAIN["batch"]
    for step in range(TRAIN["steps"]):
        starts = torch.randint(0, len(stream) - context - 1, (batch,), generator=gen)
        windows = torch.stack([data[s:s + context + 1] for s in starts.tolist()])
        logits, _ = reference_models.forward(config, w, windows[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(decay + no_decay, TRAIN["clip"])
        for group in opt.param_groups:
            group["lr"] = learning_rate(step)
        opt.step()
        if step % 25 == 0 or step == TRAIN["steps"] - 1:
            log(step, loss.item())


def write_outputs(out, config, w, tok, figures):
    os.makedirs(out, exist_ok=True)

    def dump(name, value):
        with open(os.path.join(out, name), "w") as f:
            json.dump(value, f, indent=2, ensure_ascii=False)
            f.write("\n")
    dump("config.json", config)
    dump("tokenizer.json", tok.tokenizer_json())
    dump("tokenizer_config.json", {"bos_token": "<|bos|>", "eos_token": "<|eos|>", "add_bos_token": True,
                                   "add_eos_token": False, "model_max_length": SHAPE["context"],
                                   "tokenizer_class": "PreTrainedTokenizerFast"})
    write_safetensors(os.path.join(out, "model.safetensors"),
                      {k: t.detach().numpy().astype(np.float32) for k, t in w.items()})
    with open(os.path.join(out, "TRAINING.md"), "w") as f:
        f.write(figures)


def blas_library():
    """The BLAS this process loaded (its results and speed depend on it)."""
    with open("/proc/self/maps") as f:
        names = {os.path.basename(line.split()[-1]) for line in f if "blas" in line and "/" in line}
    return ", ".join(sorted(names)) or "unknown"


def report(params, tok, train_tokens, heldout_tokens, before, after, losses):
    lines = [
        "# The demo model", "",
        "Written by `tools/train_demo_model.py` (do not edit; rerun the script). A Llama-family model with",
        "grouped-query attention trained with Debian's PyTorch on the license texts of Debian's base-files",
        f"package (`{LICENSES}`), {params:,} parameters in f32.", "",
        "| | |", "|---|---|",
        f"| shape | hidden {SHAPE['hidden']}, {SHAPE['layers']} layers, {SHAPE['heads']} heads, "
        f"{SHAPE['kv_heads']} kv heads, SwiGLU ffn {SHAPE['ffn']}, vocab {SHAPE['vocab']}, context {SHAPE['context']} |",
        f"| tokenizer | byte-level BPE, {len(tok.merges)} merges trained on the training files, "
        f"specials {', '.join(f'`{s}` = {i}' for s, i in tok.specials.items())} |",
        f"| training text | {', '.join(CORPUS)}: {train_tokens:,} tokens |",
        f"| held-out text | {HELDOUT[0]} (copy: tests/fixtures/demo/heldout.txt): {heldout_tokens:,} tokens |",
        f"| training | {TRAIN['steps']} steps of {TRAIN['batch']} x {SHAPE['context']} tokens, AdamW lr "
        f"{TRAIN['lr']} cosine to {TRAIN['min_lr']}, warmup {TRAIN['warmup']}, weight decay "
        f"{TRAIN['weight_decay']}, seed {TRAIN['seed']} |",
        f"| held-out loss before training | {before:.4f} nats/token (perplexity {math.exp(before):.1f}) |",
        f"| held-out loss after training | {after:.4f} nats/token (perplexity {math.exp(after):.2f}) |",
        f"| software | torch {torch.__version__}, BLAS {blas_library()}, {TRAIN['threads']} thread |",
        "", "Loss (nats/token) during training:", "",
        "| step | batch | held-out |", "|---|---|---|",
    ] + [f"| {s} | {v:.4f} | {'' if h is None else f'{h:.4f}'} |" for s, v, h in losses] + [""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tools", "demo_model"))
    parser.add_argument("--fixtures", default=os.path.join(ROOT, "tests", "fixtures", "demo"))
    parser.add_argument("--steps", type=int, default=TRAIN["steps"], help="fewer steps for a quick check")
    args = parser.parse_args()
    TRAIN["steps"] = args.steps
    torch.set_num_threads(TRAIN["threads"])
    torch.use_deterministic_algorithms(True)
    started = time.time()

    texts = [read_license(name, sha) for name, sha in CORPUS.items()]
    heldout_text = read_license(*HELDOUT)
    tok = demo_bpe.Tokenizer(demo_bpe.train(texts, SHAPE["vocab"] - len(SPECIALS)), SPECIALS)
    assert tok.size == SHAPE["vocab"], tok.size
    bos, eos = tok.specials["<|bos|>"], tok.specials["<|eos|>"]
    stream = [i for text in texts for i in [bos] + tok.encode(text) + [eos]]
    heldout = [bos] + tok.encode(heldout_text) + [eos]
    print(f"tokenizer: {len(tok.merges)} merges; {len(stream)} training tokens, {len(heldout)} held-out "
          f"({time.time() - started:.0f} s)")

    config = hf_config(tok)
    gen = torch.Generator().manual_seed(TRAIN["seed"])
    w = init_weights(config, gen)
    before = mean_nll(config, w, heldout, SHAPE["context"])
    print(f"held-out loss before: {before:.4f} (perplexity {math.exp(before):.1f})")
    losses = []

    def log(step, loss):
        held = mean_nll(config, w, heldout, SHAPE["context"]) if step % 100 == 0 else None
        losses.append((step, loss, held))
        print(f"step {step}: loss {loss:.4f}" + (f", held-out {held:.4f}" if held else "") +
              f" ({time.time() - started:.0f} s)", flush=True)
    train(config, w, stream, gen, log)
    after = mean_nll(config, w, heldout, SHAPE["context"])
    print(f"held-out loss after: {after:.4f} (perplexity {math.exp(after):.2f}); {time.time() - started:.0f} s")

    params = sum(t.numel() for t in w.values())
    write_outputs(args.out, config, w, tok, report(params, tok, len(stream), len(heldout), before, after, losses))
    os.makedirs(args.fixtures, exist_ok=True)
    with open(os.path.join(args.fixtures, "heldout.txt"), "w") as f:
        f.write(heldout_text)
    with open(os.path.join(args.fixtures, "heldout_tokens.json"), "w") as f:
        json.dump(heldout, f)
        f.write("\n")


if __name__ == "__main__":
    main()
