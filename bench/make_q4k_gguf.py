#!/usr/bin/env python3
"""Writes a GGUF v3 llama model whose 2-D weights are Q4_K, with the tensor
shapes of make_llama_folder.py (7B-class Llama, 8 kv heads) and the same
layer count for SIZE_GIB, so its dequantized f16 output is as large as that
folder. 1-D norms are F32, as llama.cpp's quantized models keep them.

ggml block_q4_K (256 values, 144 bytes): f16 d, f16 dmin, 12 bytes of
packed 6-bit sub-block scales and mins, 128 bytes of 4-bit quants. The
scales and quants are random bytes; d = 1e-3 and dmin = 5e-4, so every value
d * sc * q - dmin * m is finite and below 1 in magnitude.

To stay fast and use little memory, each tensor is written from one pool of
random blocks, rotated by a random offset per tensor.

usage: make_q4k_gguf.py OUT.gguf SIZE_GIB
"""
import struct
import sys

import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__file__))
from make_llama_folder import FFN, HEAD_DIM, HEADS, HIDDEN, KV_HEADS, VOCAB, layer_count  # noqa: E402

GGML_F32, GGML_Q4_K = 0, 12
QK_K, Q4_K_BYTES = 256, 144
ALIGNMENT = 32
POOL_BLOCKS = 256 << 10  # 36 MiB of blocks

# GGUF value types
U32, F32, STRING = 4, 6, 8


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    out = gguf_string(key) + struct.pack("<I", vtype)
    if vtype == U32:
        return out + struct.pack("<I", value)
    if vtype == F32:
        return out + struct.pack("<f", value)
    return out + gguf_string(value)


def tensors(layers):
    """(name, ne (ggml order: row length first), ggml type)."""
    kv_rows = KV_HEADS * HEAD_DIM
    out = [("token_embd.weight", [HIDDEN, VOCAB], GGML_Q4_K)]
    for i in range(layers):
        p = f"blk.{i}."
        out += [
            (p + "attn_norm.weight", [HIDDEN], GGML_F32),
            (p + "attn_q.weight", [HIDDEN, HIDDEN], GGML_Q4_K),
            (p + "attn_k.weight", [HIDDEN, kv_rows], GGML_Q4_K),
            (p + "attn_v.weight", [HIDDEN, kv_rows], GGML_Q4_K),
            (p + "attn_output.weight", [HIDDEN, HIDDEN], GGML_Q4_K),
            (p + "ffn_norm.weight", [HIDDEN], GGML_F32),
            (p + "ffn_gate.weight", [HIDDEN, FFN], GGML_Q4_K),
            (p + "ffn_up.weight", [HIDDEN, FFN], GGML_Q4_K),
            (p + "ffn_down.weight", [FFN, HIDDEN], GGML_Q4_K),
        ]
    return out + [("output_norm.weight", [HIDDEN], GGML_F32), ("output.weight", [HIDDEN, VOCAB], GGML_Q4_K)]


def nbytes(ne, gtype):
    n = int(np.prod(ne))
    return n * 4 if gtype == GGML_F32 else n // QK_K * Q4_K_BYTES


def main():
    out, size_gib = sys.argv[1], float(sys.argv[2])
    layers = layer_count(size_gib)
    rng = np.random.default_rng(256)
    pool = rng.integers(0, 256, (POOL_BLOCKS, Q4_K_BYTES), dtype=np.uint8)
    pool[:, 0:2] = np.frombuffer(np.float16(1e-3).tobytes(), np.uint8)
    pool[:, 2:4] = np.frombuffer(np.float16(5e-4).tobytes(), np.uint8)
    pool = pool.reshape(-1)
    norm = (1.0 + rng.normal(0, 0.05, HIDDEN)).astype(np.float32)

    kvs = [
        kv("general.architecture", STRING, "llama"),
        kv("general.name", STRING, "bench q4_k llama"),
        kv("general.alignment", U32, ALIGNMENT),
        kv("llama.context_length", U32, 4096),
        kv("llama.embedding_length", U32, HIDDEN),
        kv("llama.block_count", U32, layers),
        kv("llama.feed_forward_length", U32, FFN),
        kv("llama.rope.dimension_count", U32, HEAD_DIM),
        kv("llama.attention.head_count", U32, HEADS),
        kv("llama.attention.head_count_kv", U32, KV_HEADS),
        kv("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
        kv("llama.rope.freq_base", F32, 10000.0),
        kv("llama.vocab_size", U32, VOCAB),
    ]
    ts = tensors(layers)
    infos, offset = [], 0
    for name, ne, gtype in ts:
        infos.append(gguf_string(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}q", *ne) +
                     struct.pack("<IQ", gtype, offset))
        offset += nbytes(ne, gtype)
        offset += -offset % ALIGNMENT
    header = b"GGUF" + struct.pack("<IQQ", 3, len(ts), len(kvs)) + b"".join(kvs) + b"".join(infos)
    header += b"\0" * (-len(header) % ALIGNMENT)

    with open(out, "wb") as f:
        f.write(header)
        for name, ne, gtype in ts:
            n = nbytes(ne, gtype)
            if gtype == GGML_F32:
                f.write(norm.tobytes())
            else:
                start = int(rng.integers(0, POOL_BLOCKS)) * Q4_K_BYTES
                rotated = np.concatenate([pool[start:], pool[:start]])
                written = 0
                while written < n:
                    k = min(n - written, rotated.size)
                    f.write(rotated[:k].tobytes())
                    written += k
            f.write(b"\0" * (-n % ALIGNMENT))
    print(f"{out}: llama Q4_K, {layers} layers, {len(ts)} tensors, {offset / 2**30:.2f} GiB of tensor data")


if __name__ == "__main__":
    main()
