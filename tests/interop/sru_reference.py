"""An independent float64 PyTorch implementation of SRU / SRU++ written from
../shared/reference/sru.md (not from the authors' code): the state dict by
its keys, the config's rnn_kwargs, time-major loops kept plain.

`traps` plants the mistakes of sru.md section 8 so that a test can show the
parity bar catches them: "gate_major" (U / W_o rows read as [W; W_f; W_r]
blocks), "swap_v" / "swap_b" (weight_c / bias halves swapped), "no_mask"
(an LM without its causal mask), "memory_normalized" (the cell pre-LN
applied to the attention memory too)."""
import torch
import torch.nn.functional as F

D64 = torch.float64


def layer_norm(x, w, b):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps=1e-5)


class Reference:
    def __init__(self, state_dict, config, traps=()):
        self.sd = {k: v.to(D64) for k, v in state_dict.items()}
        self.cfg = config
        self.kw = config["rnn_kwargs"]
        self.kind = config["kind"]
        self.traps = set(traps)
        self.prefix = "rnn." if config["lm"] else ""
        kw = self.kw
        self.d = kw["hidden_size"]
        self.D = 2 if kw["bidirectional"] else 1
        self.O = self.d * self.D
        self.L = kw["num_layers"]

    def t(self, layer, name):
        return self.sd[f"{self.prefix}rnn_lst.{layer}.{name}"]

    def n_in(self, i):
        kw = self.kw
        if i > 0 or (kw["proj_input_to_hidden_first"] and kw["input_size"] != self.O):
            return self.O
        return kw["input_size"]

    def k_of(self, i):
        skip = self.kind == "srupp" or self.kw["has_skip_term"]
        return 4 if skip and self.n_in(i) != self.O else 3

    def has_attention(self, i):
        kw = self.kw
        if self.kind != "srupp":
            return False
        if kw["attention_last_n_layers"] != -1:
            return self.L - i <= kw["attention_last_n_layers"]
        return (i + 1) % kw["attention_every_n_layers"] == 0

    # -- sru.md 2.4: U's last axis is view(D, d, k), per-unit interleaved.
    def gates(self, U, k):
        T, B = U.shape[:2]
        if "gate_major" in self.traps:
            return U.view(T, B, k, self.D, self.d).permute(0, 1, 3, 4, 2)
        return U.view(T, B, self.D, self.d, k)

    def recurrence(self, i, U, residual, c0):
        kw, k, d, O = self.kw, self.k_of(i), self.d, self.O
        v, b = self.t(i, "weight_c"), self.t(i, "bias")
        if "swap_v" in self.traps:
            v = torch.cat([v[O:], v[:O]])
        if "swap_b" in self.traps:
            b = torch.cat([b[O:], b[:O]])
        vf, vr = v.view(2, self.D, d)
        bf, br = b.view(2, self.D, d)
        skip = self.kind == "srupp" or kw["has_skip_term"]
        s = self.t(i, "scale_x")[0] if kw["rescale"] and k == 3 else 1.0
        g4 = self.gates(U, k)
        T = U.shape[0]
        h = torch.zeros(T, U.shape[1], O, dtype=D64)
        c_last = []
        for di in range(self.D):
            c = c0[:, di * d:(di + 1) * d]
            steps = range(T) if di == 0 else range(T - 1, -1, -1)
            for t in steps:
                u = g4[t, :, di]
                f = torch.sigmoid(u[..., 1] + vf[di] * c + bf[di])
                r = torch.sigmoid(u[..., 2] + vr[di] * c + br[di])
                c = (c - u[..., 0]) * f + u[..., 0]
                g = torch.tanh(c) if self.kind == "sru" and kw["use_tanh"] else c
                if not skip:
                    x = 0.0
                elif k == 3:
                    x = residual[t, :, di * d:(di + 1) * d] * s
                else:
                    x = u[..., 3]
                h[t, :, di * d:(di + 1) * d] = (g - x) * r + x
            c_last.append(c)
        return h, torch.cat(c_last, dim=-1)

    def attention(self, i, xt, memory, mask):
        kw = self.kw
        P, H = kw["proj_size"], kw["num_heads"]
        hd = P // H
        src = xt if memory is None else torch.cat([memory, xt])
        z_all = src @ self.t(i, "transform_module.linear1.weight").T
        m = 0 if memory is None else memory.shape[0]
        z = z_all[m:]
        kv = z_all @ self.t(i, "transform_module.linear2.weight").T
        kk, vv = kv[..., :P], kv[..., P:]
        T, B, n = z.shape[0], z.shape[1], kk.shape[0]
        q = (z * hd ** -0.5).view(T, B, H, hd).permute(1, 2, 0, 3)
        kk = kk.view(n, B, H, hd).permute(1, 2, 0, 3)
        vv = vv.view(n, B, H, hd).permute(1, 2, 0, 3)
        s = q @ kk.transpose(-1, -2)
        if mask is not None:
            s = s + mask
        a = (torch.softmax(s, dim=-1) @ vv).permute(2, 0, 1, 3).reshape(T, B, P)
        o = self.t(i, "transform_module.alpha")[0] * a + z
        if kw["attn_layer_norm"]:
            o = layer_norm(o, self.t(i, "transform_module.layer_norm.weight"),
                           self.t(i, "transform_module.layer_norm.bias"))
        return o @ self.t(i, "transform_module.linear3.weight").T

    def transform(self, i, xt, memory, mask):
        if self.has_attention(i):
            return self.attention(i, xt, memory, mask)
        if self.kind == "srupp":
            p = xt @ self.t(i, "transform_module.linear1.weight").T
            if self.kw["attn_layer_norm"]:
                p = layer_norm(p, self.t(i, "transform_module.layer_norm.weight"),
                               self.t(i, "transform_module.layer_norm.bias"))
            return p @ self.t(i, "transform_module.linear2.weight").T
        key = f"{self.prefix}rnn_lst.{i}.transform_module.weight"
        if key in self.sd:
            return xt @ self.sd[key].T
        return (xt @ self.t(i, "transform_module.0.weight").T) @ self.t(i, "transform_module.1.weight").T

    def rnn(self, x, c0=None, memory=None, mask=None):
        """x (T, B, input_size) -> h (T, B, O), c (L, B, O), saved inputs."""
        kw = self.kw
        key = self.prefix + "input_to_hidden.weight"
        if key in self.sd:
            x = x @ self.sd[key].T
        cs, saved = [], []
        for i in range(self.L):
            saved.append(x)
            residual = x
            pre = kw["layer_norm"] and not kw["normalize_after"]
            xt = layer_norm(x, self.t(i, "layer_norm.weight"), self.t(i, "layer_norm.bias")) if pre else x
            mem = None if memory is None else memory[i]
            if mem is not None and pre and "memory_normalized" in self.traps:
                mem = layer_norm(mem, self.t(i, "layer_norm.weight"), self.t(i, "layer_norm.bias"))
            c_init = torch.zeros(x.shape[1], self.O, dtype=D64) if c0 is None else c0[i]
            h, c = self.recurrence(i, self.transform(i, xt, mem, mask), residual, c_init)
            if kw["layer_norm"] and kw["normalize_after"]:
                h = layer_norm(h, self.t(i, "layer_norm.weight"), self.t(i, "layer_norm.bias"))
            cs.append(c)
            x = h
        return x, torch.stack(cs), saved

    # -- sru.md section 5: the enwik8 LM and its eval protocol.
    def mask(self, m, T, window):
        if "no_mask" in self.traps:
            return None
        S = window if window else m + T
        i = torch.arange(2 * S).view(-1, 1)
        j = torch.arange(2 * S).view(1, -1)
        M = ((j > i) | ((j < i - S) if window else torch.zeros_like(j > i))).to(D64) * -10000.0
        return M[m:m + T, :m + T]

    def lm_logits(self, tokens, segment=0):
        """tokens [B][T] -> logits (B, T, V); segment 0: whole sequence."""
        x = torch.tensor(tokens).t()
        T = x.shape[0]
        S = segment or T
        emb, W, b = self.sd["embedding_layer.weight"], self.sd["output_layer.weight"], self.sd["output_layer.bias"]
        window = S if segment and self.cfg.get("eval", {}).get("same_length", True) else 0
        c, memory, out = None, None, []
        for s0 in range(0, T, S):
            xs = x[s0:s0 + S]
            m = 0 if memory is None else memory[0].shape[0]
            h, c, saved = self.rnn(emb[xs], c, memory, self.mask(m, xs.shape[0], window))
            memory = saved if self.kind == "srupp" else None
            out.append(h @ W.T + b)
        return torch.cat(out).transpose(0, 1)

    def greedy(self, prompt, n, segment=0):
        ids = list(prompt)
        for _ in range(n):
            ids.append(int(self.lm_logits([ids], segment)[0, -1].argmax()))
        return ids[len(prompt):]
