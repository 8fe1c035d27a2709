#!/usr/bin/env python3
"""Writes a small f32 Hugging Face Llama folder with a real-size byte-level
BPE vocabulary, for timing HF -> GGUF (bench/hf_gguf_bench.sh):
config.json, model.safetensors (8 layers, hidden 1024, MLP 2816, 16 heads,
4 kv heads, untied lm_head) and a tokenizer.json (+ tokenizer_config.json)
whose vocabulary has VOCAB entries: the llama3 fixture's pre-tokenizer and
special tokens around 256 byte tokens and VOCAB - 256 - 2 merged tokens (each
merge joins two earlier tokens, as BPE training does).

usage: make_hf_llama_vocab.py OUT_DIR VOCAB"""
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HIDDEN, FFN, HEADS, KV_HEADS, LAYERS = 1024, 2816, 16, 4, 8


def byte_level_alphabet():
    """GPT-2's bytes_to_unicode: printable stand-ins for the 256 bytes."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


def tokenizer(vocab_size, rng):
    fixture = json.load(open(os.path.join(ROOT, "tests/fixtures/tokenizers/llama3/tokenizer.json")))
    tokens = byte_level_alphabet()
    seen = set(tokens)
    merges = []
    while len(tokens) < vocab_size - 2:
        a, b = tokens[int(rng.integers(len(tokens)))], tokens[int(rng.integers(len(tokens)))]
        if a + b in seen or len(a + b) > 16:
            continue
        seen.add(a + b)
        tokens.append(a + b)
        merges.append(f"{a} {b}")
    specials = ["<|begin_of_text|>", "<|end_of_text|>"]
    fixture["model"]["vocab"] = {t: i for i, t in enumerate(tokens)}
    fixture["model"]["merges"] = merges
    fixture["added_tokens"] = [dict(fixture["added_tokens"][0], id=len(tokens) + i, content=s)
                               for i, s in enumerate(specials)]
    return fixture, specials


def tensors():
    kv = KV_HEADS * HIDDEN // HEADS
    yield "model.embed_tokens.weight", ("vocab", HIDDEN)
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        for name, shape in [("input_layernorm.weight", (HIDDEN,)), ("self_attn.q_proj.weight", (HIDDEN, HIDDEN)),
                            ("self_attn.k_proj.weight", (kv, HIDDEN)), ("self_attn.v_proj.weight", (kv, HIDDEN)),
                            ("self_attn.o_proj.weight", (HIDDEN, HIDDEN)), ("post_attention_layernorm.weight", (HIDDEN,)),
                            ("mlp.gate_proj.weight", (FFN, HIDDEN)), ("mlp.up_proj.weight", (FFN, HIDDEN)),
                            ("mlp.down_proj.weight", (HIDDEN, FFN))]:
            yield p + name, shape
    yield "model.norm.weight", (HIDDEN,)
    yield "lm_head.weight", ("vocab", HIDDEN)


def write_safetensors(path, vocab, rng):
    pool = (rng.standard_normal(1 << 22) * 0.02).astype(np.float32)
    header, offset, shapes = {}, 0, []
    for name, shape in tensors():
        shape = [vocab if d == "vocab" else d for d in shape]
        n = int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + 4 * n]}
        shapes.append((name, n))
        offset += 4 * n
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text)
        for name, n in shapes:
            start = int(rng.integers(len(pool)))
            reps = np.resize(np.roll(pool, start), n) if "norm" not in name else np.ones(n, np.float32)
            f.write(reps.tobytes())


def main():
    out, vocab = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    tok, specials = tokenizer(vocab, rng)
    json.dump(tok, open(os.path.join(out, "tokenizer.json"), "w"), ensure_ascii=False)
    json.dump({"bos_token": specials[0], "eos_token": specials[1], "add_bos_token": True},
              open(os.path.join(out, "tokenizer_config.json"), "w"))
    json.dump({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": HIDDEN,
               "intermediate_size": FFN, "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS,
               "num_hidden_layers": LAYERS, "vocab_size": vocab, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
               "max_position_embeddings": 2048, "tie_word_embeddings": False, "bos_token_id": vocab - 2,
               "eos_token_id": vocab - 1, "torch_dtype": "float32"}, open(os.path.join(out, "config.json"), "w"))
    write_safetensors(os.path.join(out, "model.safetensors"), vocab, rng)


if __name__ == "__main__":
    main()
