"""Reads and writes Hugging Face checkpoint folders (config.json + model.safetensors
or a sharded model.safetensors.index.json) without the safetensors package and
without supra: the safetensors layout is an 8-byte little-endian header length,
a JSON header {name: {dtype, shape, data_offsets}}, then the raw tensor bytes."""
import json
import os
import struct

import numpy as np

_NUMPY_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
                 "I8": "i1", "U8": "u1", "BOOL": "?"}
_SAFETENSORS_NAMES = {"<f8": "F64", "<f4": "F32", "<f2": "F16", "<i8": "I64", "<i4": "I32"}


def _decode(raw, dtype):
    if dtype == "BF16":  # the top half of an f32
        return (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
    if dtype not in _NUMPY_DTYPES:
        raise ValueError(f"safetensors dtype {dtype} is not supported by this reader")
    return np.frombuffer(raw, dtype=_NUMPY_DTYPES[dtype])


def read_safetensors(path, widen=np.float64):
    """{name: numpy array}; floats widened to `widen` (exact for bf16/f16/f32 -> f64)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = _decode(data[base + begin:base + end], info["dtype"]).reshape(info["shape"])
        out[name] = arr.astype(widen) if widen is not None and arr.dtype.kind == "f" else arr.copy()
    return out


def read_hf_weights(folder, widen=np.float64):
    index = os.path.join(folder, "model.safetensors.index.json")
    if not os.path.exists(index):
        return read_safetensors(os.path.join(folder, "model.safetensors"), widen)
    weights = {}
    with open(index) as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    for shard in shards:
        weights.update(read_safetensors(os.path.join(folder, shard), widen))
    return weights


def read_hf_folder(folder, widen=np.float64):
    """(config dict, {name: numpy array})."""
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    return config, read_hf_weights(folder, widen)


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: numpy array} in the given order; the header is padded with
    spaces so that the data starts 8-byte aligned (as the format recommends)."""
    header = {"__metadata__": dict(metadata or {"format": "pt"})}
    offset = 0
    blobs = []
    for name, arr in tensors.items():
        little = np.dtype(arr.dtype).newbyteorder("<")
        if little.str not in _SAFETENSORS_NAMES:
            raise ValueError(f"{name}: numpy dtype {arr.dtype} has no safetensors writer here")
        dtype = _SAFETENSORS_NAMES[little.str]
        blob = np.ascontiguousarray(arr, dtype=little).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
