#!/usr/bin/env python3
"""Writes a Hugging Face style Llama folder of about SIZE_GIB GiB of bf16:
config.json (model_type llama) and model.safetensors with HF tensor names.

Shapes are those of a 7B-class Llama with grouped-query attention: hidden
4096, MLP 11008, 32 heads of 128, 8 kv heads, vocab 32000, untied lm_head.
Embedding + lm_head take 500 MiB, each layer 338 MiB; layers are added until
the file holds at least SIZE_GIB (at least one layer). Values are
N(0, 0.02) bf16 like trained weights, norms near 1.

To stay fast and use little memory, each tensor is written from one pool of
random values, rotated by a random offset per tensor (as make_checkpoint.py).

usage: make_llama_folder.py OUT_DIR SIZE_GIB
"""
import json
import os
import sys

import numpy as np

HIDDEN, FFN, HEADS, KV_HEADS, VOCAB = 4096, 11008, 32, 8, 32000
HEAD_DIM = HIDDEN // HEADS
POOL_ELEMS = 16 << 20  # 32 MiB of bf16


def bf16_bits(values_f32):
    """Rounds float32 to bf16 (nearest even) and returns the uint16 bit patterns."""
    u = values_f32.astype(np.float32).view(np.uint32)
    rounded = u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))
    return (rounded >> np.uint32(16)).astype(np.uint16)


def layer_tensors(i):
    p = f"model.layers.{i}."
    kv = KV_HEADS * HEAD_DIM
    return [
        (p + "input_layernorm.weight", [HIDDEN]),
        (p + "self_attn.q_proj.weight", [HIDDEN, HIDDEN]),
        (p + "self_attn.k_proj.weight", [kv, HIDDEN]),
        (p + "self_attn.v_proj.weight", [kv, HIDDEN]),
        (p + "self_attn.o_proj.weight", [HIDDEN, HIDDEN]),
        (p + "post_attention_layernorm.weight", [HIDDEN]),
        (p + "mlp.gate_proj.weight", [FFN, HIDDEN]),
        (p + "mlp.up_proj.weight", [FFN, HIDDEN]),
        (p + "mlp.down_proj.weight", [HIDDEN, FFN]),
    ]


def nbytes(tensors):
    return sum(2 * int(np.prod(s)) for _, s in tensors)


def layer_count(size_gib):
    """Fewest layers (>= 1) whose file holds at least size_gib GiB."""
    fixed = nbytes([("e", [VOCAB, HIDDEN]), ("n", [HIDDEN]), ("h", [VOCAB, HIDDEN])])
    per_layer = nbytes(layer_tensors(0))
    target = int(size_gib * (1 << 30))
    return max(1, -(-(target - fixed) // per_layer))


def tensor_list(layers):
    tensors = [("model.embed_tokens.weight", [VOCAB, HIDDEN])]
    for i in range(layers):
        tensors += layer_tensors(i)
    return tensors + [("model.norm.weight", [HIDDEN]), ("lm_head.weight", [VOCAB, HIDDEN])]


def config(layers):
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": HIDDEN,
        "intermediate_size": FFN,
        "num_hidden_layers": layers,
        "num_attention_heads": HEADS,
        "num_key_value_heads": KV_HEADS,
        "vocab_size": VOCAB,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "max_position_embeddings": 4096,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
    }


def main():
    out_dir, size_gib = sys.argv[1], float(sys.argv[2])
    os.makedirs(out_dir, exist_ok=True)
    layers = layer_count(size_gib)
    rng = np.random.default_rng(4096)
    pool = bf16_bits(rng.normal(0.0, 0.02, POOL_ELEMS).astype(np.float32))
    norm = bf16_bits(np.ones(HIDDEN, np.float32) + rng.normal(0, 0.05, HIDDEN).astype(np.float32))
    tensors = tensor_list(layers)

    header, offset = {"__metadata__": {"format": "pt", "generator": "bench/make_llama_folder.py"}}, 0
    for name, shape in tensors:
        n = 2 * int(np.prod(shape))
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    hbytes = json.dumps(header, separators=(",", ":")).encode()
    hbytes += b" " * (-len(hbytes) % 8)

    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config(layers), f, indent=2)
    with open(os.path.join(out_dir, "model.safetensors"), "wb") as f:
        f.write(len(hbytes).to_bytes(8, "little"))
        f.write(hbytes)
        for name, shape in tensors:
            count = int(np.prod(shape))
            if len(shape) == 1:
                f.write(norm[:count].tobytes())
                continue
            start = int(rng.integers(0, POOL_ELEMS))
            rotated = np.concatenate([pool[start:], pool[:start]])
            written = 0
            while written < count:
                n = min(count - written, POOL_ELEMS)
                f.write(rotated[:n].tobytes())
                written += n
    print(f"{out_dir}: llama, {layers} layers, {len(tensors)} tensors, {offset / 2**30:.2f} GiB of bf16 data")


if __name__ == "__main__":
    main()
