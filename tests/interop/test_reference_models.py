#!/usr/bin/python3
"""The golden model is itself checked: reference_models.py (the PyTorch forward
that supra's engine is held to) agrees with llama.cpp (node-llama-cpp's
prebuilt binaries) on every fixture family of tests/fixtures/forward/, each
written to GGUF here by gguf_writer.py the way llama.cpp's own converter lays
it out (q/k rows permuted to interleaved pairs for its llama architecture;
NeoX's per-head q/k/v split into [q | k | v]; GPT-2's Conv1D weights
transposed; llama3 rope_scaling as a rope_freqs tensor).

Tolerance, relative L2 error of llama.cpp's f32 logits against the f64
reference: 1e-4 for the Llama family; 5e-3 for GPT-2 and NeoX, whose GELU
llama.cpp evaluates from an f16 table (and as tanh for NeoX's erf GELU). Each
model also has negative controls: the reference with one feature switched off
(rope scaling, partial rotary, parallel residual...) must be off by more than
10x the tolerance, so the comparison can tell those features apart.

usage: test_reference_models.py PATH_TO_SUPRA (unused: no supra involved)"""
import copy
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from interop_harness import check, summary  # noqa: E402
import reference_models  # noqa: E402
from gguf_writer import write_gguf  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "fixtures", "forward")
LLAMA_DIR = os.path.join(HERE, "llama")


def byte_token(b):
    """GPT-2's printable stand-in for byte b (so llama.cpp finds its newline token)."""
    printable = [c for c in range(256) if 33 <= c <= 126 or 161 <= c <= 172 or 174 <= c <= 255]
    return chr(b) if b in printable else chr(256 + sum(1 for c in range(b) if c not in printable))


def vocab_kvs(vocab):
    return {"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "gpt-2",
            "tokenizer.ggml.tokens": [byte_token(b) for b in range(vocab)],
            "tokenizer.ggml.token_type": [1] * vocab, "tokenizer.ggml.merges": []}


def to_interleaved(w, heads):
    """HF rotate-half rows -> llama.cpp's (Meta's) adjacent pairs, per head."""
    rows = w.shape[0]
    return w.reshape(heads, 2, rows // heads // 2, -1).swapaxes(1, 2).reshape(w.shape)


def llama_gguf(c, w, arch):
    heads, kv = c["num_attention_heads"], c["num_key_value_heads"]
    head_dim = c.get("head_dim") or c["hidden_size"] // heads
    kvs = {"general.architecture": arch, f"{arch}.context_length": c["max_position_embeddings"],
           f"{arch}.embedding_length": c["hidden_size"], f"{arch}.block_count": c["num_hidden_layers"],
           f"{arch}.feed_forward_length": c["intermediate_size"], f"{arch}.attention.head_count": heads,
           f"{arch}.attention.head_count_kv": kv, f"{arch}.attention.key_length": head_dim,
           f"{arch}.attention.value_length": head_dim, f"{arch}.rope.dimension_count": head_dim,
           f"{arch}.attention.layer_norm_rms_epsilon": float(c["rms_norm_eps"]),
           f"{arch}.rope.freq_base": float(c["rope_theta"])}
    scaling = c.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type"))
    t = {"token_embd.weight": w["model.embed_tokens.weight"], "output_norm.weight": w["model.norm.weight"]}
    if kind == "linear":
        kvs[f"{arch}.rope.scaling.type"] = "linear"
        kvs[f"{arch}.rope.scaling.factor"] = float(scaling["factor"])
    elif kind == "llama3":  # llama.cpp divides each frequency by its factor
        base = reference_models.rope_inv_freq(head_dim, c["rope_theta"], None)
        t["rope_freqs.weight"] = (base / reference_models.rope_inv_freq(head_dim, c["rope_theta"], scaling)).numpy()
    if "lm_head.weight" in w and not c.get("tie_word_embeddings"):
        t["output.weight"] = w["lm_head.weight"]
    permute = arch == "llama"  # qwen2 is a NEOX-rope (rotate-half) architecture in llama.cpp
    names = {"input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
             "self_attn.o_proj.weight": "attn_output.weight", "mlp.gate_proj.weight": "ffn_gate.weight",
             "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight"}
    for i in range(c["num_hidden_layers"]):
        p, g = f"model.layers.{i}.", f"blk.{i}."
        for hf, gg in names.items():
            t[g + gg] = w[p + hf]
        for proj, n in (("q", heads), ("k", kv), ("v", None)):
            for part in ("weight", "bias"):
                name = p + f"self_attn.{proj}_proj.{part}"
                if name in w:
                    t[g + f"attn_{proj}.{part}"] = to_interleaved(w[name], n) if permute and n else w[name]
    return {**kvs, **vocab_kvs(c["vocab_size"])}, t


def gpt2_gguf(c, w):
    kvs = {"general.architecture": "gpt2", "gpt2.context_length": c["n_positions"],
           "gpt2.embedding_length": c["n_embd"], "gpt2.block_count": c["n_layer"],
           "gpt2.feed_forward_length": c["n_inner"], "gpt2.attention.head_count": c["n_head"],
           "gpt2.attention.layer_norm_epsilon": float(c["layer_norm_epsilon"])}
    t = {"token_embd.weight": w["wte.weight"], "position_embd.weight": w["wpe.weight"],
         "output_norm.weight": w["ln_f.weight"], "output_norm.bias": w["ln_f.bias"]}
    names = {"ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output", "ln_2": "ffn_norm",
             "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"}
    for i in range(c["n_layer"]):
        for hf, gg in names.items():
            weight = w[f"h.{i}.{hf}.weight"]
            t[f"blk.{i}.{gg}.weight"] = weight.T if weight.ndim == 2 else weight  # Conv1D [in, out] -> [out, in]
            t[f"blk.{i}.{gg}.bias"] = w[f"h.{i}.{hf}.bias"]
    return {**kvs, **vocab_kvs(c["vocab_size"])}, t


def neox_gguf(c, w):
    hidden, heads = c["hidden_size"], c["num_attention_heads"]
    head_dim = hidden // heads
    kvs = {"general.architecture": "gptneox", "gptneox.context_length": c["max_position_embeddings"],
           "gptneox.embedding_length": hidden, "gptneox.block_count": c["num_hidden_layers"],
           "gptneox.feed_forward_length": c["intermediate_size"], "gptneox.attention.head_count": heads,
           "gptneox.rope.dimension_count": int(c["rotary_pct"] * head_dim),
           "gptneox.rope.freq_base": float(c["rotary_emb_base"]),
           "gptneox.use_parallel_residual": bool(c["use_parallel_residual"]),
           "gptneox.attention.layer_norm_epsilon": float(c["layer_norm_eps"])}
    p0 = "gpt_neox."
    t = {"token_embd.weight": w[p0 + "embed_in.weight"], "output_norm.weight": w[p0 + "final_layer_norm.weight"],
         "output_norm.bias": w[p0 + "final_layer_norm.bias"], "output.weight": w["embed_out.weight"]}
    names = {"input_layernorm": "attn_norm", "attention.dense": "attn_output", "post_attention_layernorm": "ffn_norm",
             "mlp.dense_h_to_4h": "ffn_up", "mlp.dense_4h_to_h": "ffn_down"}
    for i in range(c["num_hidden_layers"]):
        p, g = f"{p0}layers.{i}.", f"blk.{i}."
        for hf, gg in names.items():
            for part in ("weight", "bias"):
                t[g + f"{gg}.{part}"] = w[p + f"{hf}.{part}"]
        for part in ("weight", "bias"):  # [head][q, k, v][head_dim] -> [q | k | v]
            fused = w[p + f"attention.query_key_value.{part}"]
            per_head = fused.reshape(heads, 3, head_dim, *fused.shape[1:])
            t[g + f"attn_qkv.{part}"] = np.concatenate([per_head[:, s].reshape(hidden, *fused.shape[1:])
                                                        for s in range(3)])
    return {**kvs, **vocab_kvs(c["vocab_size"])}, t


MODELS = {  # name: (GGUF maker, tolerance, negative controls: config edits the check must see)
    "llama_gqa": (lambda c, w: llama_gguf(c, w, "llama"), 1e-4,
                  {"no rope_scaling": lambda c: c.pop("rope_scaling"),
                   "linear instead of llama3": lambda c: c["rope_scaling"].update(rope_type="linear")}),
    "mistral": (lambda c, w: llama_gguf(c, w, "llama"), 1e-4, {"no rope_scaling": lambda c: c.pop("rope_scaling")}),
    "qwen2": (lambda c, w: llama_gguf(c, w, "qwen2"), 1e-4, {"rope_theta 1e4": lambda c: c.update(rope_theta=1e4)}),
    "gpt2": (gpt2_gguf, 5e-3, {"unscaled attention": lambda c: c.update(scale_attn_weights=False)}),
    "gpt_neox": (neox_gguf, 5e-3, {"sequential residual": lambda c: c.update(use_parallel_residual=False),
                                   "full rotary": lambda c: c.update(rotary_pct=1.0)}),
}


def llama_cpp_logits(gguf, tokens):
    env = dict(os.environ, NODE_LLAMA_CPP_SKIP_DOWNLOAD="true")
    r = subprocess.run(["node", os.path.join(LLAMA_DIR, "logits.mjs"), gguf, json.dumps(tokens)],
                       capture_output=True, text=True, cwd=LLAMA_DIR, env=env, timeout=600)
    if r.returncode != 0:
        return None, r.stderr.strip()[-1000:]
    return np.array(json.loads(r.stdout)["logits"], dtype=np.float64), ""


def rel_l2(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main():
    if not os.path.isdir(os.path.join(LLAMA_DIR, "node_modules", "node-llama-cpp")):
        raise SystemExit("node-llama-cpp is not installed: run tools/install_deps.sh")
    tokens = json.load(open(os.path.join(FIXTURES, "tokens.json")))[:2]
    with tempfile.TemporaryDirectory() as tmp:
        for name, (make, tol, controls) in MODELS.items():
            folder = os.path.join(FIXTURES, name)
            config, weights = reference_models.load(folder, torch.float64)
            kvs, tensors = make(config, {k: v.numpy().astype(np.float32) for k, v in weights.items()})
            gguf = os.path.join(tmp, name + ".gguf")
            write_gguf(gguf, kvs, tensors)
            for s, seq in enumerate(tokens):
                got, err = llama_cpp_logits(gguf, seq)
                if not check(f"{name}[{s}]: llama.cpp runs the GGUF", got is not None, err):
                    continue
                ref = reference_models.logits((config, weights), seq)
                check(f"{name}[{s}]: relative L2 error {rel_l2(got, ref):.2e} < {tol:g}", rel_l2(got, ref) < tol)
                for label, edit in controls.items():
                    wrong = copy.deepcopy(config)
                    edit(wrong)
                    err = rel_l2(got, reference_models.logits((wrong, weights), seq))
                    check(f"{name}[{s}]: ... and the reference with {label} is off by {err:.2e} > {10 * tol:g}",
                          err > 10 * tol)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
