"""The real GGUF producers shipped inside node-llama-cpp (tests/interop/llama):
ggml itself (its prebuilt libggml-base.so, called with ctypes) quantizes and
dequantizes blocks of every type, and gguf-py (llama.cpp's Python GGUF
package, taken from the llama.cpp source bundled as gitRelease.bundle) writes
and reads GGUF files. Neither is supra's code, so tests built on them check
supra against independent implementations."""
import ctypes
import glob
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_MODULES = os.path.join(HERE, "llama", "node_modules")

# ggml type ids (include/ggml.h enum ggml_type).
TYPE_IDS = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7, "Q8_0": 8, "Q8_1": 9, "Q2_K": 10,
            "Q3_K": 11, "Q4_K": 12, "Q5_K": 13, "Q6_K": 14, "Q8_K": 15, "IQ2_XXS": 16, "IQ2_XS": 17,
            "IQ3_XXS": 18, "IQ1_S": 19, "IQ4_NL": 20, "IQ3_S": 21, "IQ2_S": 22, "IQ4_XS": 23, "IQ1_M": 29,
            "BF16": 30, "TQ1_0": 34, "TQ2_0": 35, "MXFP4": 39}


class _TypeTraits(ctypes.Structure):
    _fields_ = [("type_name", ctypes.c_char_p), ("blck_size", ctypes.c_int64),
                ("blck_size_interleave", ctypes.c_int64), ("type_size", ctypes.c_size_t),
                ("is_quantized", ctypes.c_bool), ("to_float", ctypes.c_void_p), ("from_float_ref", ctypes.c_void_p)]


_TO_FLOAT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.c_int64)
_lib = None


def ggml():
    """libggml-base.so of node-llama-cpp's prebuilt linux-x64 binaries."""
    global _lib
    if _lib is None:
        found = glob.glob(os.path.join(NODE_MODULES, "@node-llama-cpp", "linux-x64", "bins", "*", "libggml-base.so"))
        if not found:
            raise SystemExit("libggml-base.so not found under tests/interop/llama: run tools/install_deps.sh")
        _lib = ctypes.CDLL(found[0])
        _lib.ggml_get_type_traits.restype = ctypes.POINTER(_TypeTraits)
        _lib.ggml_get_type_traits.argtypes = [ctypes.c_int]
        _lib.ggml_quantize_chunk.restype = ctypes.c_size_t
        _lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                             ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
        _lib.ggml_quantize_requires_imatrix.restype = ctypes.c_bool
        _lib.ggml_quantize_requires_imatrix.argtypes = [ctypes.c_int]
    return _lib


def block_info(type_name):
    """(elements per block, bytes per block) as ggml reports them."""
    t = ggml().ggml_get_type_traits(TYPE_IDS[type_name]).contents
    return t.blck_size, t.type_size


def quantize(type_name, values):
    """ggml_quantize_chunk of a 2-D float32 array (rows x n_per_row): the blocks as bytes."""
    values = np.ascontiguousarray(values, dtype=np.float32)
    rows, n_per_row = values.shape
    blk, size = block_info(type_name)
    out = np.zeros(rows * (n_per_row // blk) * size, dtype=np.uint8)
    tid = TYPE_IDS[type_name]
    if type_name in ("Q8_1", "Q8_K"):  # activation types: only the reference quantizer (from_float_ref)
        t = ggml().ggml_get_type_traits(tid).contents
        from_float = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)(t.from_float_ref)
        from_float(values.ctypes.data, out.ctypes.data, values.size)
        return out.tobytes()
    imatrix = np.ones(n_per_row, dtype=np.float32) if ggml().ggml_quantize_requires_imatrix(tid) else None
    written = ggml().ggml_quantize_chunk(tid, values.ctypes.data, out.ctypes.data, 0, rows, n_per_row,
                                         imatrix.ctypes.data if imatrix is not None else None)
    assert written == out.size, (type_name, written, out.size)
    return out.tobytes()


def dequantize(type_name, blocks, n):
    """ggml's to_float (dequantize_row_*) of `n` elements stored in `blocks`."""
    t = ggml().ggml_get_type_traits(TYPE_IDS[type_name]).contents
    if not t.to_float:
        raise SystemExit(f"ggml has no to_float for {type_name}")
    src = np.frombuffer(blocks, dtype=np.uint8).copy()
    out = np.zeros(n, dtype=np.float32)
    _TO_FLOAT(t.to_float)(src.ctypes.data, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), n)
    return out


def llama_cpp_source(cache_dir, path):
    """`path` of the llama.cpp source bundled in node-llama-cpp, checked out
    (once) under `cache_dir`."""
    bundle = os.path.join(NODE_MODULES, "node-llama-cpp", "llama", "gitRelease.bundle")
    src = os.path.join(cache_dir, "llama.cpp")
    if not os.path.exists(os.path.join(src, path)):
        if not os.path.isfile(bundle):
            raise SystemExit("node-llama-cpp's gitRelease.bundle is missing: run tools/install_deps.sh")
        if not os.path.isdir(os.path.join(src, ".git")):
            subprocess.run(["git", "clone", "-q", "--no-checkout", bundle, src], check=True)
        subprocess.run(["git", "-C", src, "checkout", "-q", "HEAD", "--", path], check=True)
    return os.path.join(src, path)


def gguf_py(cache_dir):
    """Imports gguf-py from the bundled llama.cpp source and returns the module."""
    sys.path.insert(0, llama_cpp_source(cache_dir, "gguf-py"))
    import gguf  # noqa: E402
    return gguf
