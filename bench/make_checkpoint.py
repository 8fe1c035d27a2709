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
import json
import sys

import numpy as np

HIDDEN, MLP, VOCAB = 5120, 13824, 32000
POOL_ELEMS = 16 << 20  # 32 MiB of bf16
WRITE_ELEMS = 32 << 20  # elements per write() call


def bf16_bits(values_f32):
    """Rounds float32 to bf16 (nearest even) and returns the uint16 bit patterns."""
    u = values_f32.astype(np.float32).view(np.uint32)
    rounded = u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))
    return (rounded >> np.uint32(16)).astype(np.uint16)


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


def main():
    out, size_gib = sys.argv[1], float(sys.argv[2])
    rng = np.random.default_rng(1234)
    pool = bf16_bits(rng.normal(0.0, 0.02, POOL_ELEMS).astype(np.float32))
    norm = bf16_bits(np.ones(HIDDEN, np.float32) + rng.normal(0, 0.05, HIDDEN).astype(np.float32))
    tensors = tensor_list(int(size_gib * (1 << 30)))

    header, offset = {"__metadata__": {"format": "pt", "generator": "bench/make_checkpoint.py"}}, 0
    for name, shape in tensors:
        n = 2 * int(np.prod(shape))
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    hbytes = json.dumps(header, separators=(",", ":")).encode()
    hbytes += b" " * (-len(hbytes) % 8)

    with open(out, "wb") as f:
        f.write(len(hbytes).to_bytes(8, "little"))
        f.write(hbytes)
        for i, (name, shape) in enumerate(tensors):
            count = int(np.prod(shape))
            if len(shape) == 1:
                f.write(norm[:count].tobytes())
                continue
            start = int(rng.integers(0, POOL_ELEMS))
            rotated = np.concatenate([pool[start:], pool[:start]])
            if name.endswith("down_proj.weight") and i % 2 == 0:
                rotated = rotated.copy()
                rotated[::1_000_003] = bf16_bits(np.array([1e6], np.float32))[0]  # > f16 max
            written = 0
            while written < count:
                n = min(count - written, POOL_ELEMS)
                f.write(rotated[:n].tobytes())
                written += n
    print(f"{out}: {len(tensors)} tensors, {offset / 2**30:.2f} GiB of bf16 data")


if __name__ == "__main__":
    main()
