"""Independent PyTorch forward passes of Hugging Face causal language models,
written from the equations of HF's modeling code (not copied from transformers,
which is not installed here). The golden model that supra's engine and
llama.cpp are held to.

Families (by config.json model_type):
  llama, mistral, qwen2  RMSNorm, rotate-half RoPE (rope_theta, rope_scaling
                         linear / llama3), grouped-query attention, q/k/v(/o)
                         biases when the checkpoint has them (qwen2 always),
                         SwiGLU MLP, optionally tied output.
  gpt2                   learned positions, LayerNorm with bias, fused c_attn,
                         Conv1D weights stored [in, out], GELU-tanh, tied output.
  gpt_neox               LayerNorm with bias, partial rotate-half RoPE over the
                         first head_dim * rotary_pct dims, fused query_key_value
                         interleaved per head ([h][q,k,v][head_dim]), GELU (erf),
                         parallel residual when use_parallel_residual.

Precision: every op runs in the `dtype` given (float32 or float64). The RoPE
table (inv_freq, position * inv_freq, cos, sin) is always computed in float64
and then rounded to `dtype`, so the f64 forward is f64 end to end.

Hidden states recorded with record_hidden=True (each [B, T, hidden]):
  embed            after the token embedding (+ learned positions for GPT-2)
  layer.{i}.attn   residual stream after layer i's attention sub-step (for a
                   parallel-residual NeoX layer: x + attn(ln1(x)), before the MLP)
  layer.{i}.mlp    after the whole layer i
  final_norm       after the output norm
With record_attention=True (llama family), each layer's attention alone:
  layer.{i}.attn_in     the normed input of the attention (input_layernorm(x))
  layer.{i}.attn_heads  the heads' outputs before o_proj [B, T, heads * head_dim]
  layer.{i}.attn_out    after o_proj (what is added to the residual stream)"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_checkpoint_io import read_hf_folder  # noqa: E402

LLAMA_TYPES = ("llama", "mistral", "qwen2")


# ---- small kernels -------------------------------------------------------

def rms_norm(x, gain, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * gain


def layer_norm(x, gain, bias, eps):
    centered = x - x.mean(-1, keepdim=True)
    return centered * torch.rsqrt(centered.pow(2).mean(-1, keepdim=True) + eps) * gain + bias


def silu(x):
    return x * torch.sigmoid(x)


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def linear(x, w, prefix):
    """nn.Linear: weight [out, in]; the bias only when the checkpoint has one."""
    y = x @ w[prefix + ".weight"].transpose(0, 1)
    bias = w.get(prefix + ".bias")
    return y if bias is None else y + bias


def conv1d(x, w, prefix):
    """GPT-2's Conv1D: weight stored [in, out], always with a bias."""
    return x @ w[prefix + ".weight"] + w[prefix + ".bias"]


# ---- rotary positions ----------------------------------------------------

def rope_inv_freq(dim, theta, scaling):
    """Inverse frequencies of `dim` rotated dims, as HF's modeling_rope_utils
    computes them (default, linear, llama3), in float64."""
    inv = 1.0 / theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    kind = (scaling or {}).get("rope_type", (scaling or {}).get("type", "default"))
    if kind == "default":
        return inv
    factor = float(scaling["factor"])
    if kind == "linear":
        return inv / factor
    if kind == "llama3":
        low, high = float(scaling["low_freq_factor"]), float(scaling["high_freq_factor"])
        old_context = float(scaling["original_max_position_embeddings"])
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old_context / low, inv / factor, inv)
        smooth = (old_context / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= old_context / high) & (wavelen <= old_context / low)
        return torch.where(medium, smoothed, scaled)
    raise NotImplementedError(f"rope_scaling type '{kind}' is not in this reference")


def rope_tables(n_positions, inv_freq, dtype):
    angles = torch.arange(n_positions, dtype=torch.float64)[:, None] * inv_freq[None, :]
    emb = torch.cat([angles, angles], dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def apply_rope(x, cos, sin):
    """Rotate-half RoPE on the first cos.shape[-1] dims of x [B, heads, T, D]."""
    rot = cos.shape[-1]
    x_rot, x_pass = x[..., :rot], x[..., rot:]
    half = rot // 2
    rotated = torch.cat([-x_rot[..., half:], x_rot[..., :half]], dim=-1)
    return torch.cat([x_rot * cos + rotated * sin, x_pass], dim=-1)


def causal_attention(q, k, v, scale, rope=None):
    """q [B, T, heads, D], k/v [B, T, kv_heads, D] -> [B, T, heads * D]; query
    head h reads kv head h // (heads / kv_heads)."""
    b, t, heads, d = q.shape
    q, k, v = (z.transpose(1, 2) for z in (q, k, v))
    if rope is not None:
        q, k = apply_rope(q, *rope), apply_rope(k, *rope)
    group = heads // k.shape[1]
    k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    scores = (q @ k.transpose(-1, -2)) * scale
    future = torch.ones(t, t, dtype=torch.bool).triu(1)
    probs = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
    return (probs @ v).transpose(1, 2).reshape(b, t, heads * d)


# ---- families --------------------------------------------------------------

def _rope_settings(config, theta_key, default_theta):
    params = config.get("rope_parameters") or {}
    theta = float(params.get("rope_theta", config.get(theta_key, default_theta)))
    scaling = config.get("rope_scaling") or (params if params.get("rope_type", "default") != "default" else None)
    return theta, scaling


def _output_weight(config, w, embed_name, default_tied):
    if config.get("tie_word_embeddings", default_tied):
        return w[embed_name]
    for name in ("lm_head.weight", "embed_out.weight"):
        if name in w:
            return w[name]
    raise KeyError("untied model without lm_head.weight / embed_out.weight")


def _llama_forward(config, w, tokens, record):
    n_heads = config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads") or n_heads
    head_dim = config.get("head_dim") or config["hidden_size"] // n_heads
    eps = config.get("rms_norm_eps", 1e-6)
    window = config.get("sliding_window")
    uses_window = config.get("use_sliding_window", config["model_type"] == "mistral")
    if uses_window and window is not None and tokens.shape[1] > window:
        raise NotImplementedError(f"sliding_window {window} < {tokens.shape[1]} tokens is not in this reference")
    theta, scaling = _rope_settings(config, "rope_theta", 10000.0)
    rope = rope_tables(tokens.shape[1], rope_inv_freq(head_dim, theta, scaling), w["model.norm.weight"].dtype)
    b, t = tokens.shape
    x = w["model.embed_tokens.weight"][tokens]
    record("embed", x)
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = linear(h, w, p + "self_attn.q_proj").view(b, t, n_heads, head_dim)
        k = linear(h, w, p + "self_attn.k_proj").view(b, t, n_kv, head_dim)
        v = linear(h, w, p + "self_attn.v_proj").view(b, t, n_kv, head_dim)
        heads = causal_attention(q, k, v, head_dim ** -0.5, rope)
        out = linear(heads, w, p + "self_attn.o_proj")
        record(f"layer.{i}.attn_in", h)
        record(f"layer.{i}.attn_heads", heads)
        record(f"layer.{i}.attn_out", out)
        x = x + out
        record(f"layer.{i}.attn", x)
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gated = silu(linear(h, w, p + "mlp.gate_proj")) * linear(h, w, p + "mlp.up_proj")
        x = x + linear(gated, w, p + "mlp.down_proj")
        record(f"layer.{i}.mlp", x)
    x = rms_norm(x, w["model.norm.weight"], eps)
    record("final_norm", x)
    return x @ _output_weight(config, w, "model.embed_tokens.weight", False).transpose(0, 1)


def _gpt2_forward(config, w, tokens, record):
    if config.get("scale_attn_by_inverse_layer_idx"):
        raise NotImplementedError("scale_attn_by_inverse_layer_idx is not in this reference")
    hidden, n_heads = config["n_embd"], config["n_head"]
    head_dim = hidden // n_heads
    eps = config.get("layer_norm_epsilon", 1e-5)
    act = config.get("activation_function", "gelu_new")
    gelu = gelu_erf if act == "gelu" else gelu_tanh if act in ("gelu_new", "gelu_pytorch_tanh") else None
    if gelu is None:
        raise NotImplementedError(f"activation_function '{act}' is not in this reference")
    scale = head_dim ** -0.5 if config.get("scale_attn_weights", True) else 1.0
    pre = "transformer." if "transformer.wte.weight" in w else ""
    b, t = tokens.shape
    if t > config.get("n_positions", 1024):
        raise ValueError(f"{t} tokens exceed n_positions {config.get('n_positions', 1024)}")
    x = w[pre + "wte.weight"][tokens] + w[pre + "wpe.weight"][:t]
    record("embed", x)
    for i in range(config["n_layer"]):
        p = f"{pre}h.{i}."
        h = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        q, k, v = (z.reshape(b, t, n_heads, head_dim) for z in conv1d(h, w, p + "attn.c_attn").split(hidden, dim=-1))
        x = x + conv1d(causal_attention(q, k, v, scale), w, p + "attn.c_proj")
        record(f"layer.{i}.attn", x)
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        x = x + conv1d(gelu(conv1d(h, w, p + "mlp.c_fc")), w, p + "mlp.c_proj")
        record(f"layer.{i}.mlp", x)
    x = layer_norm(x, w[pre + "ln_f.weight"], w[pre + "ln_f.bias"], eps)
    record("final_norm", x)
    return x @ _output_weight(config, w, pre + "wte.weight", True).transpose(0, 1)


def _neox_forward(config, w, tokens, record):
    hidden, n_heads = config["hidden_size"], config["num_attention_heads"]
    head_dim = hidden // n_heads
    eps = config.get("layer_norm_eps", 1e-5)
    act = config.get("hidden_act", "gelu")
    gelu = gelu_erf if act == "gelu" else gelu_tanh if act in ("gelu_new", "gelu_pytorch_tanh") else None
    if gelu is None:
        raise NotImplementedError(f"hidden_act '{act}' is not in this reference")
    pct = config.get("rotary_pct", config.get("partial_rotary_factor", 1.0))
    rotary_dim = int(head_dim * pct)
    theta, scaling = _rope_settings(config, "rotary_emb_base", 10000.0)
    pre = "gpt_neox."
    rope = rope_tables(tokens.shape[1], rope_inv_freq(rotary_dim, theta, scaling), w[pre + "embed_in.weight"].dtype)
    parallel = config.get("use_parallel_residual", True)
    b, t = tokens.shape
    x = w[pre + "embed_in.weight"][tokens]
    record("embed", x)

    def norm(z, name):
        return layer_norm(z, w[name + ".weight"], w[name + ".bias"], eps)

    def mlp(z, p):
        return linear(gelu(linear(z, w, p + "mlp.dense_h_to_4h")), w, p + "mlp.dense_4h_to_h")

    for i in range(config["num_hidden_layers"]):
        p = f"{pre}layers.{i}."
        qkv = linear(norm(x, p + "input_layernorm"), w, p + "attention.query_key_value")
        q, k, v = qkv.view(b, t, n_heads, 3 * head_dim).split(head_dim, dim=-1)
        attn = linear(causal_attention(q, k, v, head_dim ** -0.5, rope), w, p + "attention.dense")
        if parallel:
            record(f"layer.{i}.attn", x + attn)
            x = x + attn + mlp(norm(x, p + "post_attention_layernorm"), p)
        else:
            x = x + attn
            record(f"layer.{i}.attn", x)
            x = x + mlp(norm(x, p + "post_attention_layernorm"), p)
        record(f"layer.{i}.mlp", x)
    x = norm(x, pre + "final_layer_norm")
    record("final_norm", x)
    return x @ _output_weight(config, w, pre + "embed_in.weight", False).transpose(0, 1)


def family(config):
    model_type = config.get("model_type")
    if model_type in LLAMA_TYPES:
        return _llama_forward
    if model_type == "gpt2":
        return _gpt2_forward
    if model_type == "gpt_neox":
        return _neox_forward
    raise NotImplementedError(f"model_type '{model_type}' is not in this reference")


# ---- public entry points -------------------------------------------------

ATTENTION_KEYS = (".attn_in", ".attn_heads", ".attn_out")


def forward(config, weights, tokens, record_hidden=False, record_attention=False):
    """weights {name: tensor} (one float dtype; may require grad), tokens
    LongTensor [B, T] -> (logits [B, T, vocab], {key: [B, T, ...]} or None):
    the hidden states, the attention keys, or both, as asked."""
    hidden = {} if record_hidden or record_attention else None

    def record(key, value):
        wanted = record_attention if key.endswith(ATTENTION_KEYS) else record_hidden
        if wanted:
            hidden[key] = value
    logits = family(config)(config, weights, tokens, record)
    return logits, hidden


def load(folder, dtype=torch.float64):
    """(config, {name: tensor in dtype}) of an HF folder."""
    config, arrays = read_hf_folder(folder)
    return config, {k: torch.from_numpy(v).to(dtype) for k, v in arrays.items() if v.dtype.kind == "f"}


def logits(folder_or_model, tokens, dtype=torch.float64, hidden=False):
    """Numpy logits of an HF folder (or a (config, weights) pair from load()).
    tokens: a list of ids -> [T, vocab]; a list of equal-length lists -> [B, T, vocab].
    With hidden=True returns (logits, {key: array}) with the same leading dims."""
    config, weights = load(folder_or_model, dtype) if isinstance(folder_or_model, str) else folder_or_model
    batched = len(tokens) > 0 and isinstance(tokens[0], (list, tuple, np.ndarray))
    ids = torch.tensor(tokens if batched else [tokens], dtype=torch.long)
    with torch.no_grad():
        out, states = forward(config, weights, ids, record_hidden=hidden)
    squeeze = (lambda a: a) if batched else (lambda a: a[0])
    out = squeeze(out.numpy())
    if not hidden:
        return out
    return out, {k: squeeze(v.numpy()) for k, v in states.items()}
