"""A tiny Llama model folder around a tokenizer fixture, so `supra convert`
can make a GGUF that llama.cpp loads with that vocabulary (the weights are
random: only the tokenizer is used)."""
import json
import os
import shutil
import struct

import numpy as np

HIDDEN, FFN, HEADS, KV_HEADS = 64, 128, 4, 2


def vocab_size(tokenizer_dir):
    tok = json.load(open(os.path.join(tokenizer_dir, "tokenizer.json"), encoding="utf-8"))
    ids = list(tok["model"]["vocab"].values()) + [t["id"] for t in tok.get("added_tokens", [])]
    return max(ids) + 1


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for b in blobs:
            f.write(b)


def make_model_folder(tokenizer_dir, out):
    """Writes config.json, model.safetensors (1 layer) and the tokenizer files into `out`."""
    os.makedirs(out, exist_ok=True)
    vocab = vocab_size(tokenizer_dir)
    rng = np.random.default_rng(0)
    head_dim = HIDDEN // HEADS

    def w(*shape):
        return rng.normal(0, 0.02, shape).astype(np.float32)

    p = "model.layers.0."
    tensors = {"model.embed_tokens.weight": w(vocab, HIDDEN), "lm_head.weight": w(vocab, HIDDEN),
               "model.norm.weight": np.ones(HIDDEN, np.float32),
               p + "input_layernorm.weight": np.ones(HIDDEN, np.float32),
               p + "post_attention_layernorm.weight": np.ones(HIDDEN, np.float32),
               p + "self_attn.q_proj.weight": w(HEADS * head_dim, HIDDEN),
               p + "self_attn.k_proj.weight": w(KV_HEADS * head_dim, HIDDEN),
               p + "self_attn.v_proj.weight": w(KV_HEADS * head_dim, HIDDEN),
               p + "self_attn.o_proj.weight": w(HIDDEN, HEADS * head_dim),
               p + "mlp.gate_proj.weight": w(FFN, HIDDEN), p + "mlp.up_proj.weight": w(FFN, HIDDEN),
               p + "mlp.down_proj.weight": w(HIDDEN, FFN)}
    write_safetensors(os.path.join(out, "model.safetensors"), tensors)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": vocab,
              "hidden_size": HIDDEN, "intermediate_size": FFN, "num_hidden_layers": 1,
              "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "hidden_act": "silu",
              "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 2048,
              "tie_word_embeddings": False, "torch_dtype": "float32"}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tokenizer_dir, name), os.path.join(out, name))
