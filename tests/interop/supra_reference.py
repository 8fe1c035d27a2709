"""A PyTorch SUPRA model written from ../shared/reference/supra-layer.md (the
authors' linear_open_lm: Transformer, Block, LinearAttn), independent of supra.

Module and parameter names are open_lm's, so `load_state_dict(strict=True)`
on a checkpoint checks that every tensor the trainer expects is there and
nothing else: tok_embeddings, layers.N.{attention_norm, attention.{in_proj,
out_proj, _totrain_embed, _totrain_embed_kv (GQA only), _totrain_q_norm,
_totrain_k_norm (qk_norm only)}, ffn_norm, feed_forward.{w12, w3}}, norm,
output. `_totrain_gn` is a GroupNorm without parameters.

The linear attention is computed in two forms, in float64 (weights are cast):
  parallel:  o_t = sum_{s<=t} exp(-lambda_h (t - s)) (q_t . k_s * qk_scale) v_s
  recurrent: S' = S + qk_scale k_t^T v_t;  o_t = q_t S';  S <- gamma_h S'
then GroupNorm(H groups, no affine, eps 1e-5) and out_proj. Softmax layers
(hybrid models, an extension of supra's HF layout) are open_lm's CustomAttn."""
import math

import torch
from torch import nn
import torch.nn.functional as F


class Config:
    """The fields LinearAttn and Transformer read, from an open_lm model JSON
    (`hidden_dim`, `qk_norm`, `model_norm`) or an HF openlm config.json
    (`dim`, `apply_qk_norm`, `norm_type`, `norm_eps`)."""

    def __init__(self, j):
        hf = "dim" in j and "hidden_dim" not in j
        self.dim = j["dim"] if hf else j["hidden_dim"]
        self.n_layers = j["n_layers"]
        self.n_heads = j["n_heads"]
        self.n_heads_kv = j.get("n_heads_kv", 8 if hf else j["n_heads"])
        self.vocab_size = j["vocab_size"]
        self.head_dim = self.dim // self.n_heads
        self.qk_head_dim = j.get("qk_head_dim") or self.head_dim
        self.v_head_dim = j.get("v_head_dim") or self.head_dim
        self.ffn = j["intermediate_dim_ffn"]
        self.norm = j["norm_type"] if hf else j.get("model_norm")
        # create_params never passes norm_eps: open_lm JSON models get Params' 1e-5.
        self.norm_eps = j.get("norm_eps", 1e-5) if hf else 1e-5
        self.qk_norm = j.get("apply_qk_norm" if hf else "qk_norm", False)
        self.use_decay = j.get("use_decay", False)
        self.use_retnet_slopes = j.get("use_retnet_slopes", False)
        self.decay_start = j.get("decay_start")
        self.rotary_base = j.get("rotary_base_frequency", 10000)
        self.rotary = j.get("positional_embedding_type", "rotary")
        self.weight_tying = j.get("weight_tying", False)
        self.attn_name = j.get("attn_name")
        self.exact_angles = False  # RoPE angles in float32, as open_lm
        softmax = set(j.get("supra_softmax_layers", []))
        self.linear_layers = [self.attn_name == "linear_attn" and l not in softmax for l in range(self.n_layers)]


class RmsNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight.to(x.dtype)


class GainOnlyLayerNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.weight.to(x.dtype), None, self.eps)


def norm_class(name):
    if name == "rms_norm":
        return RmsNorm
    if name in ("gain_only_layer_norm", "gain_only_lp_layer_norm"):
        return GainOnlyLayerNorm
    raise ValueError(f"norm {name} not modelled here")


def slopes(cfg):
    """lambda_h as get_slope_tensor builds them (float32)."""
    h = cfg.n_heads
    if not cfg.use_decay:
        return torch.zeros(h, dtype=torch.float32)
    if cfg.use_retnet_slopes:
        heads = torch.arange(h, dtype=torch.float32)
        return -torch.log(1 - torch.exp2(-5 - heads))
    if not math.log2(h).is_integer():
        raise TypeError("the authors' get_slopes fails for a head count that is not a power of two")
    ratio = 2 ** (-(2 ** -(math.log2(h) - 3)))
    start = ratio if cfg.decay_start is None else cfg.decay_start
    return torch.tensor([start * ratio ** i for i in range(h)], dtype=torch.float32)


def rope_tables(cfg, positions):
    """open_lm's RotaryEmbedding for width dim // n_heads: angles and cos/sin in
    float32 as the authors compute them, or in float64 with cfg.exact_angles
    (the mathematical angles; they differ from float32's by ~1e-7 relative)."""
    d = cfg.head_dim
    dt = torch.float64 if cfg.exact_angles else torch.float32
    inv_freq = 1.0 / (cfg.rotary_base ** (torch.arange(0, d, 2).to(dt) / d))
    freqs = torch.einsum("i,j->ij", positions.to(dt), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().double(), emb.sin().double()


def apply_rope(x, cos, sin):
    """x: [T, heads, d], rotate-half pairs (i, i + d/2)."""
    x1, x2 = x.chunk(2, dim=-1)
    rotated = torch.cat((-x2, x1), dim=-1)
    return x * cos[:, None, :] + rotated * sin[:, None, :]


def repeat_kv(x, n_rep):
    """[T, Hkv, d] -> [T, H, d]: query head h uses kv head h // n_rep."""
    return x.repeat_interleave(n_rep, dim=1)


class LinearAttn(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        H, Hkv, d, dqk, dv = cfg.n_heads, cfg.n_heads_kv, cfg.head_dim, cfg.qk_head_dim, cfg.v_head_dim
        self.in_proj = nn.Linear(cfg.dim, H * d + Hkv * d + Hkv * dv, bias=False)
        self.out_proj = nn.Linear(H * dv, cfg.dim, bias=False)
        self._totrain_gn = nn.GroupNorm(num_groups=H, num_channels=H * dv, affine=False)
        self._totrain_embed = nn.Linear(H * d, H * dqk)
        if H != Hkv:
            self._totrain_embed_kv = nn.Linear(Hkv * d, Hkv * dqk)
        if cfg.qk_norm:
            self._totrain_q_norm = norm_class(cfg.norm)(H * dqk, eps=cfg.norm_eps)
            self._totrain_k_norm = norm_class(cfg.norm)(H * dqk, eps=cfg.norm_eps)
        self.qk_scale = 1.0 / math.sqrt(dqk)

    def qkv(self, x, offset):
        """x: [T, D] float64 -> q, k [H, T, dqk] (after MLP, repeat, norm, RoPE), v [H, T, dv]."""
        c = self.cfg
        H, Hkv, d, dqk, dv = c.n_heads, c.n_heads_kv, c.head_dim, c.qk_head_dim, c.v_head_dim
        T = x.shape[0]
        lin = lambda m, y: F.linear(y, m.weight.double(), None if m.bias is None else m.bias.double())
        q_in, k_in, v = lin(self.in_proj, x).split([H * d, Hkv * d, Hkv * dv], dim=-1)
        q = F.relu(lin(self._totrain_embed, q_in)).view(T, H, dqk)
        kv_mlp = self._totrain_embed_kv if H != Hkv else self._totrain_embed
        k = F.relu(lin(kv_mlp, k_in)).view(T, Hkv, dqk)
        k = repeat_kv(k, H // Hkv)
        v = repeat_kv(v.view(T, Hkv, dv), H // Hkv)
        if c.qk_norm:
            q = self._totrain_q_norm(q.reshape(T, H * dqk)).view(T, H, dqk)
            k = self._totrain_k_norm(k.reshape(T, H * dqk)).view(T, H, dqk)
        cos, sin = rope_tables(c, torch.arange(offset, offset + T))
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        return q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)

    def output(self, o):
        """o: [H, T, dv] -> GroupNorm per token and head, then out_proj."""
        return F.linear(self.group_norm(o), self.out_proj.weight.double())

    def group_norm(self, o):
        """o: [H, T, dv] -> [T, H * dv] normed per token and head (the heads' outputs before out_proj)."""
        T = o.shape[1]
        return F.group_norm(o.transpose(0, 1).reshape(T, -1), self.cfg.n_heads, eps=1e-5)

    def heads_parallel(self, x):
        """The parallel form up to out_proj: [T, H * dv]."""
        return self.group_norm(self.decayed_sums(x))

    def forward_parallel(self, x):
        return self.output(self.decayed_sums(x))

    def decayed_sums(self, x):
        """[H, T, dv]: sum_{s<=t} exp(-lambda_h (t - s)) (q_t . k_s qk_scale) v_s."""
        q, k, v = self.qkv(x, 0)
        T = x.shape[0]
        lam = slopes(self.cfg).double()
        dist = (torch.arange(T)[:, None] - torch.arange(T)[None, :]).double()
        causal = dist >= 0
        decay = torch.where(causal, torch.exp(-lam[:, None, None] * dist.clamp(min=0)), torch.zeros(()).double())
        scores = q @ (k * self.qk_scale).transpose(-1, -2)  # [H, T, T]
        return (scores * decay) @ v

    def forward_recurrent(self, x, state=None, offset=0):
        """Token by token; returns the output and (state, offset + T) as the authors' cache."""
        q, k, v = self.qkv(x, offset)
        H, T = q.shape[0], q.shape[1]
        if state is None:
            state = torch.zeros(H, self.cfg.qk_head_dim, self.cfg.v_head_dim, dtype=torch.float64)
        gamma = torch.exp(-slopes(self.cfg).double())[:, None, None]
        outs = []
        for t in range(T):
            s_new = state + (k[:, t, :, None] * self.qk_scale) @ v[:, t, None, :]
            outs.append((q[:, t, None, :] @ s_new)[:, 0, :])
            state = gamma * s_new  # the stored state is already decayed
        return self.output(torch.stack(outs, dim=1)), (state, offset + T)


class SoftmaxAttn(nn.Module):
    """open_lm's CustomAttn (rotary, causal, grouped-query), for hybrid layers."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        H, Hkv, d = cfg.n_heads, cfg.n_heads_kv, cfg.head_dim
        self.in_proj = nn.Linear(cfg.dim, (H + 2 * Hkv) * d, bias=False)
        self.out_proj = nn.Linear(H * d, cfg.dim, bias=False)

    def forward_parallel(self, x):
        c = self.cfg
        H, Hkv, d = c.n_heads, c.n_heads_kv, c.head_dim
        T = x.shape[0]
        q, k, v = F.linear(x, self.in_proj.weight.double()).split([H * d, Hkv * d, Hkv * d], dim=-1)
        cos, sin = rope_tables(c, torch.arange(T))
        q = apply_rope(q.view(T, H, d), cos, sin).transpose(0, 1)
        k = repeat_kv(apply_rope(k.view(T, Hkv, d), cos, sin), H // Hkv).transpose(0, 1)
        v = repeat_kv(v.view(T, Hkv, d), H // Hkv).transpose(0, 1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d)
        scores = scores.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
        o = scores.softmax(-1) @ v
        return F.linear(o.transpose(0, 1).reshape(T, -1), self.out_proj.weight.double())


class SwiGLU(nn.Module):
    """xformers SwiGLU: w12 = [gate; up], w3 = down."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.w12 = nn.Linear(dim, 2 * hidden, bias=False)
        self.w3 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        gate, up = F.linear(x, self.w12.weight.double()).chunk(2, dim=-1)
        return F.linear(F.silu(gate) * up, self.w3.weight.double())


class Block(nn.Module):
    def __init__(self, cfg, layer):
        super().__init__()
        self.linear = cfg.linear_layers[layer]
        self.attention = LinearAttn(cfg) if self.linear else SoftmaxAttn(cfg)
        self.feed_forward = SwiGLU(cfg.dim, cfg.ffn)
        self.attention_norm = norm_class(cfg.norm)(cfg.dim, eps=cfg.norm_eps)
        self.ffn_norm = norm_class(cfg.norm)(cfg.dim, eps=cfg.norm_eps)

    def forward(self, x, form):
        a = self.attention_norm(x)
        if form == "recurrent" and self.linear:
            h, _ = self.attention.forward_recurrent(a)
        else:
            h = self.attention.forward_parallel(a)
        x = x + h
        return x + self.feed_forward(self.ffn_norm(x))


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_embeddings = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.layers = nn.ModuleList([Block(cfg, l) for l in range(cfg.n_layers)])
        self.norm = norm_class(cfg.norm)(cfg.dim, eps=cfg.norm_eps)
        self.output = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        if cfg.weight_tying:
            self.tok_embeddings.weight = self.output.weight

    @torch.no_grad()
    def forward(self, tokens, form="parallel"):
        """tokens: 1-D LongTensor -> logits [T, vocab] in float64."""
        x = self.tok_embeddings.weight.double()[tokens]
        for layer in self.layers:
            x = layer(x, form)
        return F.linear(self.norm(x), self.output.weight.double())
