#!/usr/bin/python3
"""Independent check of supra's re-layouts with PyTorch.

1. A tiny HF-Llama forward (rotate-half RoPE, HF names) on the demo checkpoint
   and a Meta-convention forward (interleaved-pair RoPE as complex numbers,
   Meta names) on supra's `--layout meta` output must give the same logits:
   a permutation that is self-consistent but wrong fails here.
2. The same for open_lm (fused in_proj / w12, w3 = down) and the GGUF layout.
3. HF -> meta -> HF, HF -> open_lm -> HF and HF -> GGUF -> HF round trips give
   the original tensors bit for bit (read here with torch, not supra).

usage: test_layout_torch.py PATH_TO_SUPRA"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check, summary  # noqa: E402

SUPRA = sys.argv[1]


def supra(*args):
    r = subprocess.run([SUPRA, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"supra {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")


_DT = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    """A minimal safetensors reader (struct + json), independent of supra."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[8 + n + b:8 + n + e]), dtype=_DT[info["dtype"]])
        out[name] = t.reshape(info["shape"])
    return out


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def attention(q, k, v, n_heads, n_kv):
    # q: [T, H, D], k/v: [T, Hkv, D]; causal, grouped-query.
    rep = n_heads // n_kv
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    t, _, d = q.shape
    scores = torch.einsum("thd,shd->hts", q, k) / d ** 0.5
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
    scores = scores.masked_fill(mask, float("-inf"))
    return torch.einsum("hts,shd->thd", scores.softmax(-1), v).reshape(t, -1)


def hf_forward(w, cfg, tokens):
    """transformers' LlamaForCausalLM equations, rotate-half RoPE."""
    H, Hkv, E = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["hidden_size"]
    D, eps, theta = E // H, cfg["rms_norm_eps"], cfg["rope_theta"]
    T = len(tokens)
    inv = 1.0 / theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D)
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    emb = torch.cat([freqs, freqs], -1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]

    def rope(x):
        x1, x2 = x[..., :D // 2], x[..., D // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    x = w["model.embed_tokens.weight"][tokens]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms(x, w[p + "input_layernorm.weight"], eps)
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(T, H, D)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(T, Hkv, D)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(T, Hkv, D)
        x = x + attention(rope(q), rope(k), v, H, Hkv) @ w[p + "self_attn.o_proj.weight"].T
        h = rms(x, w[p + "post_attention_layernorm.weight"], eps)
        g = torch.nn.functional.silu(h @ w[p + "mlp.gate_proj.weight"].T) * (h @ w[p + "mlp.up_proj.weight"].T)
        x = x + g @ w[p + "mlp.down_proj.weight"].T
    return rms(x, w["model.norm.weight"], eps) @ w["lm_head.weight"].T


def meta_rope(x, theta):
    """Meta's llama/model.py: consecutive pairs as complex numbers."""
    T, _, D = x.shape
    inv = 1.0 / theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D)
    freqs = torch.polar(torch.ones(T, D // 2, dtype=torch.float64), torch.outer(torch.arange(T, dtype=torch.float64), inv))
    xc = torch.view_as_complex(x.reshape(T, x.shape[1], D // 2, 2).contiguous())
    return torch.view_as_real(xc * freqs[:, None, :]).reshape(x.shape)


def meta_forward(w, params, tokens, names):
    """Meta names via `names` (a function of the projection), interleaved RoPE."""
    E, H = params["dim"], params["n_heads"]
    Hkv, D, eps, theta = params.get("n_kv_heads", H), E // params["n_heads"], params["norm_eps"], params["rope_theta"]
    T = len(tokens)
    x = w["tok_embeddings.weight"][tokens]
    for l in range(params["n_layers"]):
        p = f"layers.{l}."
        h = rms(x, w[p + "attention_norm.weight"], eps)
        wq, wk, wv, wo, w_gate, w_up, w_down = names(w, p, H * D, Hkv * D)
        q = (h @ wq.T).view(T, H, D)
        k = (h @ wk.T).view(T, Hkv, D)
        v = (h @ wv.T).view(T, Hkv, D)
        x = x + attention(meta_rope(q, theta), meta_rope(k, theta), v, H, Hkv) @ wo.T
        h = rms(x, w[p + "ffn_norm.weight"], eps)
        x = x + (torch.nn.functional.silu(h @ w_gate.T) * (h @ w_up.T)) @ w_down.T
    return rms(x, w["norm.weight"], eps) @ w["output.weight"].T


def meta_names(w, p, q_rows, kv_rows):
    a, f = p + "attention.", p + "feed_forward."
    return (w[a + "wq.weight"], w[a + "wk.weight"], w[a + "wv.weight"], w[a + "wo.weight"],
            w[f + "w1.weight"], w[f + "w3.weight"], w[f + "w2.weight"])  # Meta: w1 gate, w3 up, w2 down


def open_lm_names(w, p, q_rows, kv_rows):
    qkv = w[p + "attention.in_proj.weight"]
    w12 = w[p + "feed_forward.w12.weight"]
    f = w12.shape[0] // 2
    return (qkv[:q_rows], qkv[q_rows:q_rows + kv_rows], qkv[q_rows + kv_rows:], w[p + "attention.out_proj.weight"],
            w12[:f], w12[f:], w[p + "feed_forward.w3.weight"])  # open_lm: w3 is DOWN


def as64(w):
    return {k: v.to(torch.float64) for k, v in w.items()}


def close(a, b):
    err = ((a - b).abs().max() / b.abs().max()).item()
    return err < 1e-9, f"(max rel err {err:.2e})"


with tempfile.TemporaryDirectory() as tmp:
    hf = os.path.join(tmp, "hf")
    supra("demo-model", hf, "--dtype", "f32")
    cfg = json.load(open(os.path.join(hf, "config.json")))
    w_hf = read_safetensors(os.path.join(hf, "model.safetensors"))
    tokens = torch.tensor([258, 72, 101, 108, 108, 111, 256, 257, 44, 32, 119, 111])
    ref = hf_forward(as64(w_hf), cfg, tokens)
    check("reference logits are not trivial", ref.abs().max().item() > 1e-3)

    # Meta layout: interleaved RoPE on supra's permuted q/k must equal HF.
    meta = os.path.join(tmp, "meta")
    supra("convert", hf, meta, "--layout", "meta")
    params = json.load(open(os.path.join(meta, "params.json")))
    w_meta = read_safetensors(os.path.join(meta, "model.safetensors"))
    ok, detail = close(meta_forward(as64(w_meta), params, tokens, meta_names), ref)
    check("meta forward on supra's Meta layout == HF forward", ok, detail)
    # A wrong permutation must be caught: feeding HF (unpermuted) q/k to the Meta forward.
    w_wrong = dict(w_meta)
    for l in range(cfg["num_hidden_layers"]):
        w_wrong[f"layers.{l}.attention.wq.weight"] = w_hf[f"model.layers.{l}.self_attn.q_proj.weight"]
        w_wrong[f"layers.{l}.attention.wk.weight"] = w_hf[f"model.layers.{l}.self_attn.k_proj.weight"]
    ok, detail = close(meta_forward(as64(w_wrong), params, tokens, meta_names), ref)
    check("the check catches unpermuted q/k", not ok, detail)
    check("params.json has the kv heads", params.get("n_kv_heads") == cfg["num_key_value_heads"])

    # open_lm layout (rotary = rotate-half, no permute): HF equations on fused tensors.
    ol = os.path.join(tmp, "ol")
    supra("convert", hf, ol, "--layout", "open_lm")
    w_ol = as64(read_safetensors(os.path.join(ol, "model.safetensors")))
    w_back = {"model.embed_tokens.weight": w_ol["tok_embeddings.weight"], "model.norm.weight": w_ol["norm.weight"],
              "lm_head.weight": w_ol["output.weight"]}
    head_dim = cfg["hidden_size"] // cfg["num_attention_heads"]
    q_rows, kv_rows = cfg["num_attention_heads"] * head_dim, cfg["num_key_value_heads"] * head_dim
    for l in range(cfg["num_hidden_layers"]):
        q, k, v, o, g, u, d = open_lm_names(w_ol, f"layers.{l}.", q_rows, kv_rows)
        p = f"model.layers.{l}."
        w_back.update({p + "self_attn.q_proj.weight": q, p + "self_attn.k_proj.weight": k, p + "self_attn.v_proj.weight": v,
                       p + "self_attn.o_proj.weight": o, p + "mlp.gate_proj.weight": g, p + "mlp.up_proj.weight": u,
                       p + "mlp.down_proj.weight": d,
                       p + "input_layernorm.weight": w_ol[f"layers.{l}.attention_norm.weight"],
                       p + "post_attention_layernorm.weight": w_ol[f"layers.{l}.ffn_norm.weight"]})
    ok, detail = close(hf_forward(w_back, cfg, tokens), ref)
    check("HF forward on open_lm fused tensors == HF forward", ok, detail)
    olcfg = json.load(open(os.path.join(ol, "open_lm_config.json")))
    check("open_lm config says rotary (rotate-half)", olcfg["positional_embedding_type"] == "rotary")

    # Round trips back to HF, compared bit for bit with torch.
    for layout, path in (("meta", meta), ("open_lm", ol)):
        back = os.path.join(tmp, "back_" + layout)
        supra("convert", path, back, "--layout", "hf")
        w = read_safetensors(os.path.join(back, "model.safetensors"))
        same = w.keys() == w_hf.keys() and all(torch.equal(w[k].view(torch.int32), w_hf[k].view(torch.int32)) for k in w_hf)
        check(f"HF -> {layout} -> HF is bit exact", same)
        cfg_back = json.load(open(os.path.join(back, "config.json")))
        check(f"HF -> {layout} -> HF config.json", all(cfg_back[k] == cfg[k] for k in
              ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "vocab_size")))
    gguf = os.path.join(tmp, "m.gguf")
    supra("convert", hf, gguf)
    back = os.path.join(tmp, "back_gguf")
    supra("convert", gguf, back)
    w = read_safetensors(os.path.join(back, "model.safetensors"))
    same = w.keys() == w_hf.keys() and all(torch.equal(w[k].view(torch.int32), w_hf[k].view(torch.int32)) for k in w_hf)
    check("HF -> GGUF -> HF is bit exact", same)
    check("tokenizer files carried over", os.path.exists(os.path.join(meta, "tokenizer.json")))

    # A tensor no rule matches is an error (exit 3), and nothing is written.
    r = subprocess.run([SUPRA, "convert", meta, os.path.join(tmp, "x"), "--layout", "hf", "--from-layout", "gguf"],
                       capture_output=True, text=True)
    check("wrong --from-layout is refused", r.returncode == 3 and "layout.001" in r.stderr
          and not os.path.exists(os.path.join(tmp, "x")), r.stderr.strip()[:200])

sys.exit(summary())
