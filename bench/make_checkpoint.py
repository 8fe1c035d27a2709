#!/usr/bin/env python3
"""Writes a bf16 safetensors checkpoint of about SIZE_GIB GiB with the shapes
of a 13B-class Llama (hidden 5120, MLP 13824, vocab 32000): an embedding and
an lm_head of 312 MiB, per layer four 50 MiB attention matrices, three
135 MiB MLP matrices and two small norms. Layers are added until the file
holds at least SIZE_GIB. Values are N(0, 0.02) bf16 like trained weights
(every other down_proj gets some values above the f16 range, so the cast's
overflow counting is exercised).

To stay fast and use little memory, each tensor is written from a pool of
random values, rotated by a random offset per tensor.

usage: make_checkpoint.py OUT.safetensors SIZE_GIB
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bf16_safetensors import bf16_bits, write_bf16_safetensors  # noqa: E402

HIDDEN, MLP, VOCAB = 5120, 13824, 32000



def tensor_list(target_bytes):
    tensors = [("model.embed_tokens.weight", [VOCAB, HIDDEN])]
    tail = [("model.norm.weight", [HIDDEN]), ("lm_head.weight", [VOCAB, HIDDEN])]
    def total(ts):
        return sum(2 * int(np.prod(s)) for _, s in ts)
    layer = 0
    while True:
        p = f"model.layers.{layer}."
        block = [
            (p + "input_layernorm.weight", [HIDDEN]),
            (p + "self_attn.q_proj.weight", [HIDDEN, HIDDEN]),
            (p + "self_attn.k_proj.weight", [HIDDEN, HIDDEN]),
            (p + "self_attn.v_proj.weight", [HIDDEN, HIDDEN]),
            (p + "self_attn.o_proj.weight", [HIDDEN, HIDDEN]),
            (p + "post_attention_layernorm.weight", [HIDDEN]),
            (p + "mlp.gate_proj.weight", [MLP, HIDDEN]),
            (p + "mlp.up_proj.weight", [MLP, HIDDEN]),
            (p + "mlp.down_proj.weight", [HIDDEN, MLP]),
        ]
        tensors += block
        layer += 1
        if total(tensors + tail) >= target_bytes:
            break
    return tensors + tail


def plant_overflow(name, i, values):
    """Every other down_proj gets values above the f16 range (overflow counting)."""
    if name.endswith("down_proj.weight") and i % 2 == 0:
        values = values.copy()
        values[::1_000_003] = bf16_bits(np.array([1e6], np.float32))[0]
    return values


def main():
    out, size_gib = sys.argv[1], float(sys.argv[2])
    tensors = tensor_list(int(size_gib * (1 << 30)))
    size = write_bf16_safetensors(out, tensors, "bench/make_checkpoint.py", 1234, HIDDEN, plant_overflow)
    print(f"{out}: {len(tensors)} tensors, {size / 2**30:.2f} GiB of bf16 data")


if __name__ == "__main__":
    main()
