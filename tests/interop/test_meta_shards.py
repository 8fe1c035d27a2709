#!/usr/bin/python3
"""Meta original tensor-parallel shards made by torch.save (consolidated.00.pth,
consolidated.01.pth + params.json, built here from the demo HF model with the
inverse of transformers' Meta->HF permutation) convert with
`supra convert META_FOLDER OUT --layout hf` back to the original HF tensors,
bit for bit. Also: a missing shard member / mismatched shards fail cleanly.

usage: test_meta_shards.py PATH_TO_SUPRA"""
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
from hf_checkpoint_io import read_safetensors  # noqa: E402

SUPRA = sys.argv[1]


def hf_to_meta_rows(w, n_heads):
    # transformers' permute (Meta -> HF) is view(h, d/h/2, 2, in).transpose(1, 2); this is its inverse.
    rows, cols = w.shape
    return w.view(n_heads, 2, rows // n_heads // 2, cols).transpose(1, 2).reshape(rows, cols)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        hf = os.path.join(tmp, "hf")
        subprocess.run([SUPRA, "demo-model", hf, "--dtype", "f32"], check=True, capture_output=True)
        config = json.load(open(os.path.join(hf, "config.json")))
        w = {k: torch.from_numpy(v.astype(np.float32)) for k, v in
             read_safetensors(os.path.join(hf, "model.safetensors")).items()}
        heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]

        meta = {"tok_embeddings.weight": w["model.embed_tokens.weight"], "norm.weight": w["model.norm.weight"],
                "output.weight": w["lm_head.weight"]}
        for layer in range(config["num_hidden_layers"]):
            h, m = f"model.layers.{layer}.", f"layers.{layer}."
            meta[m + "attention.wq.weight"] = hf_to_meta_rows(w[h + "self_attn.q_proj.weight"], heads)
            meta[m + "attention.wk.weight"] = hf_to_meta_rows(w[h + "self_attn.k_proj.weight"], kv_heads)
            meta[m + "attention.wv.weight"] = w[h + "self_attn.v_proj.weight"]
            meta[m + "attention.wo.weight"] = w[h + "self_attn.o_proj.weight"]
            meta[m + "feed_forward.w1.weight"] = w[h + "mlp.gate_proj.weight"]
            meta[m + "feed_forward.w2.weight"] = w[h + "mlp.down_proj.weight"]
            meta[m + "feed_forward.w3.weight"] = w[h + "mlp.up_proj.weight"]
            meta[m + "attention_norm.weight"] = w[h + "input_layernorm.weight"]
            meta[m + "ffn_norm.weight"] = w[h + "post_attention_layernorm.weight"]

        # Tensor-parallel split as Meta's model-parallel layers do it.
        def split_dim(name):
            if name.endswith("norm.weight"):
                return None
            if any(s in name for s in ("wo.", "w2.", "tok_embeddings")):
                return 1
            return 0

        meta_dir = os.path.join(tmp, "meta")
        os.makedirs(meta_dir)
        n_shards = 2
        for s in range(n_shards):
            shard = {}
            for name, t in meta.items():
                d = split_dim(name)
                shard[name] = t.clone() if d is None else torch.chunk(t, n_shards, dim=d)[s].clone()
            torch.save(shard, os.path.join(meta_dir, f"consolidated.{s:02d}.pth"))
        params = {"dim": config["hidden_size"], "n_layers": config["num_hidden_layers"], "n_heads": heads,
                  "n_kv_heads": kv_heads, "vocab_size": config["vocab_size"], "multiple_of": 4,
                  "norm_eps": config["rms_norm_eps"], "rope_theta": config["rope_theta"]}
        json.dump(params, open(os.path.join(meta_dir, "params.json"), "w"))

        out = os.path.join(tmp, "back")
        r = subprocess.run([SUPRA, "convert", meta_dir, out, "--layout", "hf"], capture_output=True, text=True)
        check("convert of 2 Meta shards exits 0", r.returncode == 0, r.stderr.strip())
        if r.returncode == 0:
            back = read_safetensors(os.path.join(out, "model.safetensors"))
            check("same tensor names as the HF original", sorted(back) == sorted(w), f"{sorted(set(back) ^ set(w))}")
            bad = [k for k in w if k in back and not np.array_equal(back[k], w[k].numpy().astype(np.float64))]
            check("every tensor bit for bit", not bad, f"{bad}")
            check("config.json written", os.path.exists(os.path.join(out, "config.json")))

        # Shards that disagree: drop a tensor from shard 1.
        broken = torch.load(os.path.join(meta_dir, "consolidated.01.pth"))
        del broken["layers.0.attention.wq.weight"]
        torch.save(broken, os.path.join(meta_dir, "consolidated.01.pth"))
        out2 = os.path.join(tmp, "broken-out")
        r = subprocess.run([SUPRA, "convert", meta_dir, out2, "--layout", "hf"], capture_output=True, text=True)
        check("mismatched shards exit 3", r.returncode == 3, f"({r.returncode}: {r.stderr.strip()})")
        check("one-line error names layout.201", r.stderr.startswith("[layout.201]") and r.stderr.count("\n") == 1,
              r.stderr.strip())
        check("nothing written", not os.path.exists(out2))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
