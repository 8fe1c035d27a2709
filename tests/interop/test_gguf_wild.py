#!/usr/bin/python3
"""GGUF as people download it, made by the real producers (ggml quantizes the
blocks, gguf-py writes the files; tests/interop/ggml_producer.py):
- `inspect` lists every ggml type, with the stored type and stored bytes, also
  the types supra cannot dequantize, in text and --json;
- GGUF -> GGUF copies quantized tensors byte for byte (gguf-py reads them back);
- an output that needs values refuses a type without a dequantizer (gguf.127)
  and leaves no file;
- a GGUF that is not a model (LoRA adapter, vocab-only) converts with its
  names kept; GGUF scalars go into safetensors __metadata__ as gguf.<key>,
  and what has no string form is listed as dropped.

usage: test_gguf_wild.py PATH_TO_SUPRA"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from interop_harness import check, summary  # noqa: E402
import ggml_producer  # noqa: E402

SUPRA = sys.argv[1]
CACHE = os.path.join(tempfile.gettempdir(), f"supra-interop-gguf-py-{os.getuid()}")
QUANTIZED = ["Q4_K", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ4_NL",
             "IQ4_XS", "TQ1_0", "TQ2_0", "MXFP4"]


def run(*args):
    return subprocess.run([SUPRA, *args], capture_output=True, text=True)


def supra(*args):
    r = run(*args)
    if r.returncode != 0:
        raise SystemExit(f"supra {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def write_every_type(gguf, path, rng):
    """One [2, 256] tensor per quantized type (+ an F32 norm); returns name -> (type, blocks)."""
    w = gguf.GGUFWriter(path, arch="wildtest")
    w.add_string("general.name", "every ggml type")
    w.add_uint32("wildtest.answer", 42)
    stored = {}
    for name in QUANTIZED:
        blocks = ggml_producer.quantize(name, rng.standard_normal((2, 256), dtype=np.float32))
        qtype = getattr(gguf.GGMLQuantizationType, name)
        w.add_tensor(f"t.{name}", np.frombuffer(blocks, dtype=np.uint8).reshape(2, -1), raw_dtype=qtype)
        stored[f"t.{name}"] = (name, blocks)
    norm = rng.standard_normal(256, dtype=np.float32)
    w.add_tensor("t.norm", norm)
    stored["t.norm"] = ("F32", norm.tobytes())
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return stored


def check_inspect(path, stored):
    report = json.loads(supra("inspect", path, "--json"))
    rows = {t["name"]: t for t in report["tensors"]}
    check("inspect --json lists every tensor", set(rows) == set(stored), sorted(set(stored) - set(rows)))
    for name, (qtype, blocks) in stored.items():
        row = rows.get(name, {})
        check(f"inspect --json {qtype}: stored type, stored bytes, shape",
              row.get("dtype") == qtype and row.get("bytes") == len(blocks) and row.get("shape") == ([2, 256] if qtype != "F32" else [256]),
              f"{row}")
    check("inspect --json: total bytes are the stored bytes", report["bytes"] == sum(len(b) for _, b in stored.values()),
          f"{report['bytes']}")
    text = supra("inspect", path)
    for name, (qtype, blocks) in stored.items():
        line = next((l for l in text.splitlines() if l.startswith(name + " ")), "")
        check(f"inspect text {qtype}: type and bytes on its row", qtype in line.split() and str(len(blocks)) in line.split(),
              line)
    check("inspect text notes the types without a dequantizer", "no dequantizer for IQ2_XXS" in text, text[-400:])
    decodable = {t["dtype"] for t in report["tensors"] if t.get("reads_as") == "F32"}
    check("inspect --json: reads_as F32 exactly for the types supra decodes",
          decodable == {"Q4_K", "IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0", "MXFP4"}, sorted(decodable))


def check_gguf_copy(gguf, path, out, stored):
    supra("convert", path, out)
    reader = gguf.GGUFReader(out)
    got = {t.name: t for t in reader.tensors}
    for name, (qtype, blocks) in stored.items():
        t = got.get(name)
        same = t is not None and t.tensor_type.name == qtype and bytes(t.data.tobytes()) == blocks
        check(f"GGUF -> GGUF keeps {qtype} blocks byte for byte (gguf-py reads them)", same,
              t.tensor_type.name if t is not None else "missing")
    field = reader.fields.get("wildtest.answer")
    check("GGUF -> GGUF keeps the KVs", field is not None and int(field.parts[field.data[0]][0]) == 42)


def check_refusal(path, tmp):
    out = os.path.join(tmp, "values.safetensors")
    r = run("convert", path, out)
    check("GGUF -> safetensors refuses a type without a dequantizer (gguf.127, exit 3)",
          r.returncode == 3 and "gguf.127" in r.stderr, f"{r.returncode} {r.stderr.strip()}")
    check("... and leaves no output", not os.path.exists(out) and not any(".tmp" in f for f in os.listdir(tmp)),
          os.listdir(tmp))


# Types whose values supra decodes beyond the classic ones, each checked bit for bit against ggml's own
# dequantize_row_* (to_float of libggml-base.so) on blocks ggml's quantizer wrote.
DECODED = ["IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0", "MXFP4"]


def check_dequantized(gguf, tmp, rng):
    path = os.path.join(tmp, "decoded.gguf")
    w = gguf.GGUFWriter(path, arch="wildtest")
    expected = {}
    for qtype in DECODED + ["Q8_1"]:
        values = rng.standard_normal((8, 512), dtype=np.float32) * np.float32(3)
        values[0, :64] = 0  # an all-zero block
        values[1, :32] *= np.float32(1e-6)  # tiny scales
        blocks = ggml_producer.quantize(qtype, values)
        w.add_tensor(f"t.{qtype}", np.frombuffer(blocks, dtype=np.uint8).reshape(8, -1),
                     raw_dtype=getattr(gguf.GGMLQuantizationType, qtype))
        if qtype == "Q8_1":
            # ggml has no to_float for Q8_1 (an activation type): decode it here from the block
            # struct (f16 d, f16 s, i8 qs[32]); this checks supra against our reading of the spec only.
            raw = np.frombuffer(blocks, dtype=np.uint8).reshape(-1, 36)
            d = raw[:, :2].copy().view(np.float16).astype(np.float32)
            expected[qtype] = (raw[:, 4:].copy().view(np.int8).astype(np.float32) * d).reshape(-1)
        else:
            expected[qtype] = ggml_producer.dequantize(qtype, blocks, values.size)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    out = os.path.join(tmp, "decoded.safetensors")
    supra("convert", path, out)
    header = safetensors_header(out)
    with open(out, "rb") as f:
        data = f.read()
    base = 8 + struct.unpack("<Q", data[:8])[0]
    for qtype, want in expected.items():
        info = header[f"t.{qtype}"]
        begin, end = info["data_offsets"]
        got = np.frombuffer(data[base + begin:base + end], dtype=np.float32)
        who = "our numpy reading of the block (no ggml to_float)" if qtype == "Q8_1" else "ggml's dequantize_row"
        check(f"{qtype} dequantized bit-exact vs {who}",
              info["dtype"] == "F32" and got.shape == want.shape and np.array_equal(got.view(np.uint32), want.view(np.uint32)),
              f"{info['dtype']} max diff {np.abs(got - want).max() if got.shape == want.shape else got.shape}")


def safetensors_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))


def write_adapter(gguf, path):
    """A LoRA adapter as llama.cpp's convert_lora_to_gguf.py writes one (gguf-py): llama architecture, no
    hyperparameters, general.type = adapter."""
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_string("general.type", "adapter")
    w.add_string("adapter.type", "lora")
    w.add_float32("adapter.lora.alpha", 16.5)
    w.add_array("general.tags", ["lora", "test"])
    w.add_tensor("blk.0.attn_q.weight.lora_a", np.arange(4 * 64, dtype=np.float32).reshape(4, 64))
    w.add_tensor("blk.0.attn_q.weight.lora_b", np.arange(64 * 4, dtype=np.float32).reshape(64, 4))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_vocab_only(gguf, path):
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_tokenizer_model("llama")
    w.add_token_list(["<unk>", "<s>", "</s>", "a"])
    w.add_token_scores([0.0, 0.0, 0.0, -1.0])
    w.add_token_types([2, 3, 3, 1])
    w.add_bos_token_id(1)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def check_not_a_model(gguf, tmp):
    lora = os.path.join(tmp, "lora.gguf")
    write_adapter(gguf, lora)
    out = os.path.join(tmp, "lora.safetensors")
    r = run("convert", lora, out, "--json")
    check("a LoRA adapter GGUF converts to safetensors (no layout asked, no model spec)", r.returncode == 0,
          r.stderr.strip())
    if r.returncode != 0:
        return
    header = safetensors_header(out)
    names = sorted(k for k in header if k != "__metadata__")
    check("... with its tensor names kept", names == ["blk.0.attn_q.weight.lora_a", "blk.0.attn_q.weight.lora_b"], names)
    meta = header.get("__metadata__", {})
    check("... and the GGUF scalars in __metadata__ as gguf.<key>",
          meta.get("gguf.general.type") == "adapter" and meta.get("gguf.adapter.lora.alpha") == "16.5" and
          meta.get("gguf.general.architecture") == "llama", meta)
    dropped = json.loads(r.stdout).get("dropped_metadata")
    check("... and --json lists the array it dropped", dropped == ["general.tags"], dropped)
    r = run("convert", lora, os.path.join(tmp, "lora-none.safetensors"), "--layout", "none")
    check("--layout none converts it too", r.returncode == 0, r.stderr.strip())
    vocab = os.path.join(tmp, "vocab.gguf")
    write_vocab_only(gguf, vocab)
    r = run("convert", vocab, os.path.join(tmp, "vocab.safetensors"))
    check("a vocab-only GGUF converts (names kept)", r.returncode == 0, r.stderr.strip())
    check("... and the summary says which GGUF keys it dropped",
          "dropped:" in r.stdout and "tokenizer.ggml.tokens" in r.stdout, r.stdout)


def main():
    rng = np.random.default_rng(13)
    with tempfile.TemporaryDirectory() as tmp:
        gguf = ggml_producer.gguf_py(CACHE)
        path = os.path.join(tmp, "every-type.gguf")
        stored = write_every_type(gguf, path, rng)
        check_inspect(path, stored)
        check_gguf_copy(gguf, path, os.path.join(tmp, "copy.gguf"), stored)
        check_refusal(path, tmp)
        check_not_a_model(gguf, tmp)
        check_dequantized(gguf, tmp, rng)
    summary()


if __name__ == "__main__":
    main()
