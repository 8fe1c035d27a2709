"""A minimal GGUF v3 writer (f32 tensors, scalar / string / array metadata), so
that tests can hand llama.cpp models in architectures supra does not write
(gpt2, gptneox) without supra and without gguf-py. Layout (ggml's gguf.md):
magic "GGUF", version, tensor count, KV count; the KVs; the tensor infos (name,
dims innermost first, type, offset); padding to `general.alignment` (32); the
tensor data, each tensor aligned."""
import struct

import numpy as np

ALIGNMENT = 32
_U32, _I32, _F32, _BOOL, _STRING, _ARRAY = 4, 5, 6, 7, 8, 9
_GGML_F32 = 0


def _string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def _scalar(value):
    """(type id, bytes) of a Python scalar."""
    if isinstance(value, bool):
        return _BOOL, struct.pack("<?", value)
    if isinstance(value, int):
        return (_U32, struct.pack("<I", value)) if value >= 0 else (_I32, struct.pack("<i", value))
    if isinstance(value, float):
        return _F32, struct.pack("<f", value)
    if isinstance(value, str):
        return _STRING, _string(value)
    raise TypeError(f"no GGUF type for {value!r}")


def _value(value):
    if isinstance(value, (list, tuple)):
        if not value:
            return _ARRAY, struct.pack("<IQ", _STRING, 0)
        types = {_scalar(v)[0] for v in value}
        element = _I32 if types <= {_U32, _I32} else types.pop()  # integer arrays are i32 (token types)
        if element == _I32:
            body = b"".join(struct.pack("<i", v) for v in value)
        else:
            body = b"".join(_scalar(v)[1] for v in value)
        return _ARRAY, struct.pack("<IQ", element, len(value)) + body
    return _scalar(value)


def write_gguf(path, metadata, tensors):
    """metadata {key: value}; tensors {name: numpy array in torch order}: GGUF
    lists dims innermost first, so a [rows, cols] array is stored as ne = [cols, rows]."""
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata)))
    for key, value in metadata.items():
        kind, body = _value(value)
        out += _string(key) + struct.pack("<I", kind) + body
    blobs, offset = [], 0
    for name, arr in tensors.items():
        blob = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        out += _string(name) + struct.pack("<I", arr.ndim) + b"".join(struct.pack("<Q", d) for d in arr.shape[::-1])
        out += struct.pack("<IQ", _GGML_F32, offset)
        blobs.append(blob + b"\0" * (-len(blob) % ALIGNMENT))
        offset += len(blobs[-1])
    out += b"\0" * (-len(out) % ALIGNMENT)
    with open(path, "wb") as f:
        f.write(bytes(out))
        for blob in blobs:
            f.write(blob)
