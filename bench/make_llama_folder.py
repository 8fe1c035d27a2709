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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bf16_safetensors import write_bf16_safetensors  # noqa: E402

HIDDEN, FFN, HEADS, KV_HEADS, VOCAB = 4096, 11008, 32, 8, 32000
HEAD_DIM = HIDDEN // HEADS



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
    tensors = tensor_list(layers)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config(layers), f, indent=2)
    size = write_bf16_safetensors(os.path.join(out_dir, "model.safetensors"), tensors, "bench/make_llama_folder.py",
                                  4096, HIDDEN)
    print(f"{out_dir}: llama, {layers} layers, {len(tensors)} tensors, {size / 2**30:.2f} GiB of bf16 data")


if __name__ == "__main__":
    main()
