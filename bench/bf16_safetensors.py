"""The one writer of the benchmarks' synthetic bf16 safetensors files
(make_checkpoint.py, make_llama_folder.py): N(0, 0.02) matrices like trained
weights, norms near 1, written from one pool of random values rotated by a
random offset per tensor, so multi-GiB files are fast to make and take little
memory."""
import json

import numpy as np

POOL_ELEMS = 16 << 20  # 32 MiB of bf16


def bf16_bits(values_f32):
    """Rounds float32 to bf16 (nearest even) and returns the uint16 bit patterns."""
    u = values_f32.astype(np.float32).view(np.uint32)
    rounded = u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))
    return (rounded >> np.uint32(16)).astype(np.uint16)


def write_bf16_safetensors(path, tensors, generator, seed, norm_len, poke=None):
    """Writes `tensors` ([(name, shape)], 1-D ones are norms of at most
    `norm_len` values). `poke(name, index, values)` may return a changed copy
    of a tensor's values (e.g. to plant out-of-range values). Returns the
    number of data bytes."""
    rng = np.random.default_rng(seed)
    pool = bf16_bits(rng.normal(0.0, 0.02, POOL_ELEMS).astype(np.float32))
    norm = bf16_bits(np.ones(norm_len, np.float32) + rng.normal(0, 0.05, norm_len).astype(np.float32))

    header, offset = {"__metadata__": {"format": "pt", "generator": generator}}, 0
    for name, shape in tensors:
        n = 2 * int(np.prod(shape))
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    hbytes = json.dumps(header, separators=(",", ":")).encode()
    hbytes += b" " * (-len(hbytes) % 8)

    with open(path, "wb") as f:
        f.write(len(hbytes).to_bytes(8, "little"))
        f.write(hbytes)
        for i, (name, shape) in enumerate(tensors):
            count = int(np.prod(shape))
            if len(shape) == 1:
                f.write(norm[:count].tobytes())
                continue
            start = int(rng.integers(0, POOL_ELEMS))
            rotated = np.concatenate([pool[start:], pool[:start]])
            if poke:
                rotated = poke(name, i, rotated)
            written = 0
            while written < count:
                n = min(count - written, POOL_ELEMS)
                f.write(rotated[:n].tobytes())
                written += n
    return offset
