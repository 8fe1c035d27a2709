#!/usr/bin/python3
"""Proof of `supra linearize` with PyTorch, independent of supra's code.

1. The open_lm checkpoint loads with torch.load(weights_only=True) as
   {"epoch": 0, "state_dict": ...} into the SUPRA model built from
   open_lm_config.json by tests/interop/supra_reference.py, strictly (every
   tensor lands, none missing, none extra): GQA (bf16, `supra demo-model`)
   and MHA (f32, written here) sources, with and without --qk-norm.
2. Every tensor that is not new equals the source's, read here from the
   source safetensors and fused by hand (in_proj = q;k;v, w12 = gate;up, w3 = down).
3. torch-default init: |w| <= 1/sqrt(fan_in) in the stored dtype, mean and
   spread of U(-b, b), a Kolmogorov-Smirnov distance within the 1% band;
   identity init: E = I, b = 0.
4. --seed reproduces the bytes, another seed changes them, --threads 1 and 2
   write identical files; a --recipe from --dry-run --json repeats the run.
5. --target hf: the authors' wrapper layout (model.-prefixed open_lm names,
   config.json with the Params fields) loads strictly too; open_lm -> hf ->
   open_lm through `supra convert` gives the tensors back bit for bit.
6. Each refusal exits non-zero with its id and leaves no output; each
   warning names its field.
7. The reference's parallel and recurrent forms agree (all decay kinds,
   GQA/MHA, qk_norm, a hybrid layer).

usage: test_linearize.py PATH_TO_SUPRA"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check, summary  # noqa: E402
import supra_reference as ref  # noqa: E402

SUPRA = sys.argv[1]
_DT = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
_DT_NAME = {v: k for k, v in _DT.items()}


def run(*args):
    return subprocess.run([SUPRA, *map(str, args)], capture_output=True, text=True)


def supra(*args):
    r = run(*args)
    if r.returncode != 0:
        raise SystemExit(f"supra {' '.join(map(str, args))} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def read_safetensors(path):
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


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.contiguous().view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _DT_NAME[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def make_llama_folder(folder, hidden=64, heads=4, kv_heads=4, layers=2, ffn=96, vocab=100, dtype=torch.float32,
                      biases=False, extra_config=None, tokenizer_tokens=None, seed=1):
    """A tiny HF Llama/Mistral/Qwen2-style folder with random weights."""
    g = torch.Generator().manual_seed(seed)
    d = hidden // heads
    rnd = lambda *s: (torch.randn(*s, generator=g) * 0.2).to(dtype)
    t = {"model.embed_tokens.weight": rnd(vocab, hidden), "model.norm.weight": 1 + rnd(hidden), "lm_head.weight": rnd(vocab, hidden)}
    for l in range(layers):
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = 1 + rnd(hidden)
        t[p + "self_attn.q_proj.weight"] = rnd(heads * d, hidden)
        t[p + "self_attn.k_proj.weight"] = rnd(kv_heads * d, hidden)
        t[p + "self_attn.v_proj.weight"] = rnd(kv_heads * d, hidden)
        if biases:
            for x, rows in (("q", heads * d), ("k", kv_heads * d), ("v", kv_heads * d)):
                t[p + f"self_attn.{x}_proj.bias"] = rnd(rows)
        t[p + "self_attn.o_proj.weight"] = rnd(hidden, heads * d)
        t[p + "post_attention_layernorm.weight"] = 1 + rnd(hidden)
        t[p + "mlp.gate_proj.weight"] = rnd(ffn, hidden)
        t[p + "mlp.up_proj.weight"] = rnd(ffn, hidden)
        t[p + "mlp.down_proj.weight"] = rnd(hidden, ffn)
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, "model.safetensors"), t)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": vocab, "hidden_size": hidden,
              "intermediate_size": ffn, "num_hidden_layers": layers, "num_attention_heads": heads,
              "num_key_value_heads": kv_heads, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
              "max_position_embeddings": 512, "tie_word_embeddings": False}
    config.update(extra_config or {})
    json.dump(config, open(os.path.join(folder, "config.json"), "w"))
    if tokenizer_tokens:
        vocab_map = {f"t{i}": i for i in range(tokenizer_tokens)}
        json.dump({"model": {"type": "BPE", "vocab": vocab_map, "merges": []}, "added_tokens": []},
                  open(os.path.join(folder, "tokenizer.json"), "w"))
    return folder


def expected_open_lm(src, layers):
    """The source's tensors in open_lm naming, fused by hand."""
    e = {"tok_embeddings.weight": src["model.embed_tokens.weight"], "norm.weight": src["model.norm.weight"],
         "output.weight": src["lm_head.weight"]}
    for l in range(layers):
        p, o = f"model.layers.{l}.", f"layers.{l}."
        e[o + "attention_norm.weight"] = src[p + "input_layernorm.weight"]
        e[o + "attention.in_proj.weight"] = torch.cat([src[p + f"self_attn.{x}_proj.weight"] for x in "qkv"])
        e[o + "attention.out_proj.weight"] = src[p + "self_attn.o_proj.weight"]
        e[o + "ffn_norm.weight"] = src[p + "post_attention_layernorm.weight"]
        e[o + "feed_forward.w12.weight"] = torch.cat([src[p + "mlp.gate_proj.weight"], src[p + "mlp.up_proj.weight"]])
        e[o + "feed_forward.w3.weight"] = src[p + "mlp.down_proj.weight"]
    return e


def load_open_lm(out):
    ckpt = torch.load(os.path.join(out, "checkpoint.pt"), weights_only=True)
    cfg = ref.Config(json.load(open(os.path.join(out, "open_lm_config.json"))))
    return ckpt, cfg


def strict_load(cfg, state_dict):
    model = ref.Transformer(cfg)
    try:
        model.load_state_dict(state_dict, strict=True)
        return model, ""
    except RuntimeError as e:
        return None, str(e).splitlines()[0]


def ks_uniform(values, bound):
    """Kolmogorov-Smirnov distance of `values` from U(-bound, bound)."""
    x, _ = ((values.double() + bound) / (2 * bound)).sort()
    n = x.numel()
    i = torch.arange(1, n + 1, dtype=torch.float64)
    return max((i / n - x).max().item(), (x - (i - 1) / n).max().item())


def check_init_stats(name, ckpt_sd, cfg):
    H, Hkv, d = cfg.n_heads, cfg.n_heads_kv, cfg.head_dim
    groups = {"_totrain_embed": H * d, "_totrain_embed_kv": Hkv * d}
    for key, fan_in in groups.items():
        vals = [t for n, t in ckpt_sd.items() if f"attention.{key}." in n]
        if not vals:
            continue
        flat = torch.cat([v.double().flatten() for v in vals])
        bound = 1 / math.sqrt(fan_in)
        n = flat.numel()
        check(f"{name}: {key} |w| <= 1/sqrt({fan_in})", flat.abs().max().item() <= bound, f"max {flat.abs().max().item():.6g}")
        check(f"{name}: {key} mean ~ 0", abs(flat.mean().item()) < 4 * bound / math.sqrt(3 * n), f"{flat.mean().item():.3g}")
        check(f"{name}: {key} std ~ b/sqrt(3)", abs(flat.std().item() / (bound / math.sqrt(3)) - 1) < 0.05,
              f"{flat.std().item():.4g}")
        ks = ks_uniform(flat, bound)
        check(f"{name}: {key} uniform (KS {ks:.4f} < {1.63 / math.sqrt(n):.4f})", ks < 1.63 / math.sqrt(n))


def test_open_lm(tmp, name, src_folder, src_file, extra_args, layers):
    out = os.path.join(tmp, name)
    r = supra("linearize", src_folder, out, *extra_args)
    ckpt, cfg = load_open_lm(out)
    check(f"{name}: checkpoint is {{epoch: 0, state_dict}}", set(ckpt) == {"epoch", "state_dict"} and ckpt["epoch"] == 0)
    sd = ckpt["state_dict"]
    model, err = strict_load(cfg, sd)
    check(f"{name}: strict load into the reference model", model is not None, err)
    src = read_safetensors(src_file)
    expected = expected_open_lm(src, layers)
    same = all(torch.equal(sd[k], v) for k, v in expected.items())
    check(f"{name}: pretrained tensors unchanged", same)
    new = sorted(k for k in sd if k not in expected)
    check(f"{name}: only _totrain_ tensors added", all("._totrain_" in k for k in new), new[:3])
    dtype = next(iter(src.values())).dtype
    check(f"{name}: new tensors in the source dtype", all(sd[k].dtype == dtype for k in new))
    return out, sd, cfg, r


def test_gqa_and_mha(tmp):
    demo = os.path.join(tmp, "demo")
    supra("demo-model", demo)
    out, sd, cfg, r = test_open_lm(tmp, "gqa", demo, os.path.join(demo, "model.safetensors"), [], 2)
    check("gqa: _totrain_embed_kv [Hkv*dqk, Hkv*d]",
          all(sd[f"layers.{l}.attention._totrain_embed_kv.weight"].shape == (32, 32) for l in range(2)))
    check("gqa: no qk-norm tensors without --qk-norm", not any("_totrain_q_norm" in k for k in sd))
    check_init_stats("gqa", sd, cfg)
    check("gqa: kernel head-dim warning names the field", "qk_head_dim 16" in r.stderr and "linearize.kernel_head_dim" in r.stderr)
    cfgj = json.load(open(os.path.join(out, "open_lm_config.json")))
    want = {"attn_name": "linear_attn", "use_decay": True, "use_retnet_slopes": False, "decay_start": None,
            "qk_head_dim": 16, "v_head_dim": 16, "n_heads_kv": 2, "qk_norm": False, "model_norm": "rms_norm",
            "ffn_type": "swiglu", "rotary_base_frequency": 10000.0, "hidden_dim": 64, "n_layers": 2, "n_heads": 4,
            "vocab_size": 260, "post_embed_norm": False, "weight_tying": False}
    check("gqa: open_lm_config.json fields", all(cfgj.get(k) == v for k, v in want.items()),
          {k: cfgj.get(k) for k, v in want.items() if cfgj.get(k) != v})
    readme = open(os.path.join(out, "README")).read()
    check("gqa: README has the trainer command",
          f"--pretrained {os.path.abspath(out)}/checkpoint.pt --load-not-strict" in readme and
          f"--model {os.path.abspath(out)}/open_lm_config.json" in readme)

    mha = make_llama_folder(os.path.join(tmp, "mha_src"), heads=4, kv_heads=4, dtype=torch.float32, seed=2)
    _, sd, cfg, _ = test_open_lm(tmp, "mha", mha, os.path.join(mha, "model.safetensors"),
                                 ["--decay", "retnet", "--qk-norm"], 2)
    check("mha: _totrain_embed shared, no _totrain_embed_kv", not any("_totrain_embed_kv" in k for k in sd))
    check("mha: qk-norm gains are ones [H*dqk]",
          all(torch.equal(sd[f"layers.{l}.attention._totrain_{x}_norm.weight"], torch.ones(64))
              for l in range(2) for x in "qk"))
    check("mha: retnet config", cfg.use_decay and cfg.use_retnet_slopes and cfg.qk_norm)
    wrapped = os.path.join(tmp, "wrapped.pt")
    supra("convert", mha, wrapped, "--layout", "open_lm", "--torch-wrap", "state_dict", "--torch-epoch", 0)
    w = torch.load(wrapped, weights_only=True)
    check("convert --torch-wrap state_dict --torch-epoch 0: open_lm's loader form",
          set(w) == {"epoch", "state_dict"} and w["epoch"] == 0 and "layers.0.attention.in_proj.weight" in w["state_dict"])
    check_init_stats("mha", sd, cfg)

    ident = os.path.join(tmp, "identity")
    supra("linearize", mha, ident, "--init", "identity", "--decay", "none")
    sd = torch.load(os.path.join(ident, "checkpoint.pt"), weights_only=True)["state_dict"]
    check("identity: E = I, b = 0",
          all(torch.equal(sd[f"layers.{l}.attention._totrain_embed.weight"], torch.eye(64)) and
              torch.equal(sd[f"layers.{l}.attention._totrain_embed.bias"], torch.zeros(64)) for l in range(2)))
    check("identity: decay none", json.load(open(os.path.join(ident, "open_lm_config.json")))["use_decay"] is False)
    return demo, mha


def file_bytes(p):
    return open(p, "rb").read()


def test_reproducible(tmp, demo):
    a, b, c, t1 = (os.path.join(tmp, n) for n in ("seed_a", "seed_b", "seed_c", "threads1"))
    supra("linearize", demo, a, "--seed", 7, "--threads", 2)
    supra("linearize", demo, b, "--seed", 7, "--threads", 2)
    supra("linearize", demo, t1, "--seed", 7, "--threads", 1)
    supra("linearize", demo, c, "--seed", 8)
    pa = file_bytes(os.path.join(a, "checkpoint.pt"))
    check("--seed: same seed, same bytes", pa == file_bytes(os.path.join(b, "checkpoint.pt")))
    check("--threads 1 and 2: same bytes", pa == file_bytes(os.path.join(t1, "checkpoint.pt")))
    sa = torch.load(os.path.join(a, "checkpoint.pt"), weights_only=True)["state_dict"]
    sc = torch.load(os.path.join(c, "checkpoint.pt"), weights_only=True)["state_dict"]
    key = "layers.0.attention._totrain_embed.weight"
    check("--seed: another seed, other values", not torch.equal(sa[key], sc[key]))
    check("layers and tensors draw distinct values",
          not torch.equal(sa[key], sa["layers.1.attention._totrain_embed.weight"]) and
          not torch.equal(sa[key][:32, :32], sa["layers.0.attention._totrain_embed_kv.weight"]))

    # A GGUF source (interleaved q/k rows, f32 norms) linearizes to the same rotate-half ("rotary") model.
    gguf, from_gguf = os.path.join(tmp, "demo.gguf"), os.path.join(tmp, "from_gguf")
    supra("convert", demo, gguf)
    supra("linearize", gguf, from_gguf, "--seed", 7)
    sg = torch.load(os.path.join(from_gguf, "checkpoint.pt"), weights_only=True)["state_dict"]
    same2d = all(torch.equal(sg[k].float(), v.float()) for k, v in sa.items())
    check("GGUF source: the same linearized model (rows back in rotate-half order, same new tensors)",
          same2d and json.load(open(os.path.join(from_gguf, "open_lm_config.json")))["positional_embedding_type"] == "rotary")

    plan = json.loads(supra("linearize", demo, os.path.join(tmp, "unused"), "--seed", 7, "--dry-run", "--json").stdout)
    check("--dry-run writes nothing", not os.path.exists(os.path.join(tmp, "unused")))
    per_layer = 64 * 64 + 64 + 32 * 32 + 32
    check("--dry-run: parameters added per layer and in total",
          all(l["params_added"] == per_layer for l in plan["layers"]) and plan["params_added"] == 2 * per_layer,
          plan["params_added"])
    recipe = os.path.join(tmp, "recipe.json")
    json.dump(plan["recipe"], open(recipe, "w"))
    again = os.path.join(tmp, "from_recipe")
    supra("linearize", demo, again, "--recipe", recipe)
    check("--recipe from --dry-run --json repeats the run", pa == file_bytes(os.path.join(again, "checkpoint.pt")))
    bad = dict(plan["recipe"])
    bad["layers"] = [dict(bad["layers"][0], atention="linear"), bad["layers"][1]]
    json.dump(bad, open(recipe, "w"))
    r = run("linearize", demo, os.path.join(tmp, "bad_recipe"), "--recipe", recipe)
    check("recipe: unknown key refused with its path",
          r.returncode != 0 and "recipe.101" in r.stderr and "/layers/0/atention" in r.stderr, r.stderr.strip())


def test_hf_target(tmp, demo):
    hf = os.path.join(tmp, "hf")
    supra("linearize", demo, hf, "--target", "hf")
    cfgj = json.load(open(os.path.join(hf, "config.json")))
    check("hf: config.json is the openlm wrapper's",
          cfgj["model_type"] == "openlm" and cfgj["architectures"] == ["OpenLMForCausalLM"] and cfgj["dim"] == 64 and
          cfgj["attn_name"] == "linear_attn" and cfgj["norm_type"] == "rms_norm" and cfgj["apply_qk_norm"] is False,
          cfgj)
    st = read_safetensors(os.path.join(hf, "model.safetensors"))
    check("hf: every name under model.", all(k.startswith("model.") for k in st))
    model, err = strict_load(ref.Config(cfgj), {k[len("model."):]: v for k, v in st.items()})
    check("hf: strict load into the reference model", model is not None, err)
    check("hf: tokenizer carried", os.path.exists(os.path.join(hf, "tokenizer.json")))

    ol = os.path.join(tmp, "gqa")
    hf2, back = os.path.join(tmp, "hf_from_open_lm"), os.path.join(tmp, "back.pt")
    supra("convert", os.path.join(ol, "checkpoint.pt"), hf2, "--layout", "hf")
    supra("convert", hf2, back, "--layout", "open_lm")
    a = torch.load(os.path.join(ol, "checkpoint.pt"), weights_only=True)["state_dict"]
    b = torch.load(back, weights_only=True)
    same = a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and torch.equal(a[k].view(torch.uint8) if a[k].dtype == torch.bfloat16 else a[k], b[k].view(torch.uint8) if b[k].dtype == torch.bfloat16 else b[k]) for k in a)
    check("open_lm -> hf openlm -> open_lm: tensors bit-identical", same)
    hfst = read_safetensors(os.path.join(hf2, "model.safetensors"))
    check("convert: open_lm checkpoint -> HF openlm names", set(hfst) == {"model." + k for k in a})
    for path, conv in ((hf2, "hf_openlm"), (os.path.join(ol, "checkpoint.pt"), "open_lm")):
        r = json.loads(supra("inspect", path, "--json").stdout)
        check(f"inspect detects SUPRA in {conv} naming",
              r["tensor_count"] == len(a) and r["model"]["architecture"] == "supra" and
              r["model"]["convention"] == conv and r["model"]["supra"]["linear_layers"] == 2, r.get("model"))

    hyb = os.path.join(tmp, "hybrid")
    r = supra("linearize", demo, hyb, "--target", "hf", "--keep-softmax", "last:1")
    cfgj = json.load(open(os.path.join(hyb, "config.json")))
    st = read_safetensors(os.path.join(hyb, "model.safetensors"))
    check("hybrid: softmax layer without feature MLP, supra_softmax_layers in config",
          cfgj.get("supra_softmax_layers") == [1] and not any(k.startswith("model.layers.1.attention._totrain") for k in st)
          and "linearize.hybrid_hf" in r.stderr)
    model, err = strict_load(ref.Config(cfgj), {k[len("model."):]: v for k, v in st.items()})
    check("hybrid: strict load (layer 1 softmax)", model is not None, err)
    back_hyb = os.path.join(tmp, "hybrid_back")
    r = run("convert", hyb, back_hyb, "--layout", "open_lm")
    check("hybrid -> open_lm folder refused (no open_lm config can state it), nothing written",
          r.returncode != 0 and "spec.106" in r.stderr and not os.path.exists(back_hyb), r.stderr.strip())


def test_reading_checks(tmp):
    """A SUPRA checkpoint whose tensors do not fit its config is refused by name."""
    ol = os.path.join(tmp, "gqa")
    ckpt = torch.load(os.path.join(ol, "checkpoint.pt"), weights_only=True)
    config = json.load(open(os.path.join(ol, "open_lm_config.json")))

    def convert_case(name, state_dict, cfg, ident, text):
        folder = os.path.join(tmp, "read_" + name)
        os.makedirs(folder)
        torch.save({"epoch": 3, "state_dict": state_dict}, os.path.join(folder, "epoch_3.pt"))
        json.dump(cfg, open(os.path.join(folder, "open_lm_config.json"), "w"))
        r = run("convert", os.path.join(folder, "epoch_3.pt"), os.path.join(folder, "hf"), "--layout", "hf")
        check(f"read {name}: [{ident}] names {text}", r.returncode != 0 and f"[{ident}]" in r.stderr and text in r.stderr
              and not os.path.exists(os.path.join(folder, "hf")), r.stderr.strip())

    sd = {("module." + k): v for k, v in ckpt["state_dict"].items()}  # as DDP saves it
    missing = {k: v for k, v in sd.items() if "layers.1.attention._totrain_embed_kv.weight" not in k}
    convert_case("missing_kv", missing, config, "layout.002", "layers.1.attention._totrain_embed_kv.weight")
    extra = dict(sd)
    extra["module.layers.0.attention._totrain_q_norm.weight"] = torch.ones(64, dtype=torch.bfloat16)
    convert_case("extra_norm", extra, config, "layout.010", "_totrain_q_norm")
    softmax_cfg = {k: v for k, v in config.items() if k != "attn_name"}
    convert_case("no_attn_name", sd, softmax_cfg, "layout.001", "attn_name")
    good = os.path.join(tmp, "read_good")
    os.makedirs(good)
    torch.save({"epoch": 3, "state_dict": sd}, os.path.join(good, "epoch_3.pt"))
    supra("convert", os.path.join(good, "epoch_3.pt"), os.path.join(good, "hf"), "--layout", "hf",
          "--model-config", os.path.join(ol, "open_lm_config.json"))
    st = read_safetensors(os.path.join(good, "hf", "model.safetensors"))
    check("read an uptrained epoch_N.pt (module. prefix) -> HF openlm", set(st) == {"model." + k for k in ckpt["state_dict"]})


def refuse(tmp, name, src, args, ident):
    out = os.path.join(tmp, "refused_" + name)
    r = run("linearize", src, out, *args)
    lines = r.stderr.strip().splitlines()
    check(f"refusal {name}: exit non-zero, [{ident}], one line, no output",
          r.returncode != 0 and f"[{ident}]" in r.stderr and len(lines) == 1 and not os.path.exists(out), r.stderr.strip())


def test_refusals_and_warnings(tmp, demo, mha):
    qwen = make_llama_folder(os.path.join(tmp, "qwen_src"), biases=True,
                             extra_config={"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"]})
    refuse(tmp, "qkv_bias", qwen, [], "linearize.qkv_bias")
    refuse(tmp, "hybrid_open_lm", demo, ["--keep-softmax", "0"], "linearize.hybrid")
    scaled = make_llama_folder(os.path.join(tmp, "scaled_src"), extra_config={"rope_scaling": {"type": "linear", "factor": 2.0}})
    refuse(tmp, "rope_scaling", scaled, [], "linearize.rope_scaling")
    windowed = make_llama_folder(os.path.join(tmp, "window_src"), kv_heads=2,
                                 extra_config={"model_type": "mistral", "architectures": ["MistralForCausalLM"],
                                               "sliding_window": 128})
    refuse(tmp, "sliding_window", windowed, ["--target", "hf", "--keep-softmax", "0"], "linearize.sliding_window")
    six = make_llama_folder(os.path.join(tmp, "six_src"), hidden=96, heads=6, kv_heads=6)
    refuse(tmp, "lightning_heads", six, [], "linearize.lightning_heads")
    refuse(tmp, "qk_dim_rotary", mha, ["--qk-dim", "8"], "linearize.qk_dim_rotary")
    refuse(tmp, "identity_shape", mha, ["--qk-dim", "8", "--init", "identity"], "usage.identity")
    refuse(tmp, "already_supra", os.path.join(tmp, "hf"), [], "linearize.already_supra")

    r = supra("linearize", six, os.path.join(tmp, "six_retnet"), "--decay", "retnet")
    check("6 heads with retnet decay is accepted", r.returncode == 0)
    r = supra("linearize", windowed, os.path.join(tmp, "window_linear"))
    check("sliding window, all layers linear: warning names it",
          "linearize.sliding_window" in r.stderr and "sliding_window 128" in r.stderr, r.stderr.strip())
    eps = make_llama_folder(os.path.join(tmp, "eps_src"), hidden=128, extra_config={"rms_norm_eps": 1e-6},
                            tokenizer_tokens=90)
    r = supra("linearize", eps, os.path.join(tmp, "eps_out"))
    check("warning: norm_eps names both values", "linearize.norm_eps" in r.stderr and "1e-06" in r.stderr and "1e-05" in r.stderr,
          r.stderr.strip())
    check("warning: vocab padding names both values",
          "linearize.vocab_padding" in r.stderr and "100 rows" in r.stderr and "90 tokens" in r.stderr, r.stderr.strip())
    check("no kernel warning for head dim 32", "kernel_head_dim" not in r.stderr)
    r = supra("linearize", eps, os.path.join(tmp, "eps_hf"), "--target", "hf")
    check("hf target keeps norm_eps (the wrapper reads it)",
          "linearize.norm_eps" not in r.stderr and json.load(open(os.path.join(tmp, "eps_hf", "config.json")))["norm_eps"] == 1e-6)


def test_forms_agree():
    torch.manual_seed(0)
    worst = 0.0
    for heads, kv in ((4, 2), (4, 4)):
        for decay in ({"use_decay": True}, {"use_decay": True, "use_retnet_slopes": True}, {"use_decay": False},
                      {"use_decay": True, "decay_start": 0.3}):
            for qk_norm in (False, True):
                j = {"hidden_dim": 32, "n_layers": 2, "n_heads": heads, "n_heads_kv": kv, "vocab_size": 50,
                     "intermediate_dim_ffn": 48, "model_norm": "rms_norm", "qk_norm": qk_norm, "attn_name": "linear_attn",
                     "seq_len": 64, **decay}
                model = ref.Transformer(ref.Config(j))
                with torch.no_grad():
                    for p in model.parameters():
                        p.uniform_(-0.5, 0.5)
                tokens = torch.randint(0, 50, (37,))
                a, b = model(tokens, "parallel"), model(tokens, "recurrent")
                worst = max(worst, ((a - b).abs().max() / a.abs().max()).item())
    check("reference: parallel and recurrent forms agree", worst < 1e-12, f"worst relative {worst:.2e}")
    # The recurrent state carries across calls: two halves == one pass.
    j = {"hidden_dim": 32, "n_layers": 1, "n_heads": 4, "n_heads_kv": 2, "vocab_size": 50, "intermediate_dim_ffn": 48,
         "model_norm": "rms_norm", "attn_name": "linear_attn", "use_decay": True}
    attn = ref.Transformer(ref.Config(j)).layers[0].attention
    x = torch.randn(20, 32, dtype=torch.float64)
    with torch.no_grad():
        full = attn.forward_parallel(x)
        first, (state, offset) = attn.forward_recurrent(x[:9])
        second, _ = attn.forward_recurrent(x[9:], state, offset)
    rel = ((torch.cat([first, second]) - full).abs().max() / full.abs().max()).item()
    check("reference: recurrent state and offset carry over", rel < 1e-12, f"{rel:.2e}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        demo, mha = test_gqa_and_mha(tmp)
        test_reproducible(tmp, demo)
        test_hf_target(tmp, demo)
        test_reading_checks(tmp)
        test_refusals_and_warnings(tmp, demo, mha)
    test_forms_agree()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
