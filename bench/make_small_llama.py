#!/usr/bin/env python3
"""Writes a Hugging Face style Llama folder of about 125M parameters in bf16
(config.json, model.safetensors, tokenizer.json): hidden 768, 12 layers, 12
heads of 64, 4 kv heads, MLP 2048, vocab 32000, untied lm_head. Values
N(0, 0.02), norms near 1 (bench/bf16_safetensors.py). The tokenizer is a
byte-level BPE of 256 bytes, two-byte merges and two special tokens: llama.cpp
loads a GGUF only with a vocabulary. For the forward-pass benchmark.

usage: make_small_llama.py OUT_DIR"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bf16_safetensors import write_bf16_safetensors  # noqa: E402

HIDDEN, FFN, LAYERS, HEADS, KV_HEADS, VOCAB = 768, 2048, 12, 12, 4, 32000
KV = KV_HEADS * HIDDEN // HEADS


def tensors():
    out = [("model.embed_tokens.weight", [VOCAB, HIDDEN])]
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        out += [(p + "input_layernorm.weight", [HIDDEN]), (p + "self_attn.q_proj.weight", [HIDDEN, HIDDEN]),
                (p + "self_attn.k_proj.weight", [KV, HIDDEN]), (p + "self_attn.v_proj.weight", [KV, HIDDEN]),
                (p + "self_attn.o_proj.weight", [HIDDEN, HIDDEN]), (p + "post_attention_layernorm.weight", [HIDDEN]),
                (p + "mlp.gate_proj.weight", [FFN, HIDDEN]), (p + "mlp.up_proj.weight", [FFN, HIDDEN]),
                (p + "mlp.down_proj.weight", [HIDDEN, FFN])]
    return out + [("model.norm.weight", [HIDDEN]), ("lm_head.weight", [VOCAB, HIDDEN])]


def byte_chars():
    """GPT-2's printable stand-in for every byte (as in the demo tokenizer)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def tokenizer_json():
    chars = byte_chars()
    vocab = {c: i for i, c in enumerate(chars)}
    merges = []
    for a in range(256):
        for b in range(256):
            if len(vocab) == VOCAB - 2:
                break
            vocab[chars[a] + chars[b]] = len(vocab)
            merges.append(chars[a] + " " + chars[b])
    special = [{"id": VOCAB - 2 + i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True} for i, c in enumerate(["<|bos|>", "<|eos|>"])]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": special, "normalizer": None,
            "pre_tokenizer": byte_level, "post_processor": None, "decoder": byte_level,
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                      "merges": merges}}


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": HIDDEN,
              "intermediate_size": FFN, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
              "num_key_value_heads": KV_HEADS, "vocab_size": VOCAB, "hidden_act": "silu", "rms_norm_eps": 1e-5,
              "rope_theta": 10000.0, "max_position_embeddings": 2048, "tie_word_embeddings": False,
              "torch_dtype": "bfloat16"}
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out_dir, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(), f)
    t = tensors()
    size = write_bf16_safetensors(os.path.join(out_dir, "model.safetensors"), t, "bench/make_small_llama.py", 768,
                                  HIDDEN)
    params = size // 2
    print(f"{out_dir}: llama, {LAYERS} layers, {params / 1e6:.1f}M parameters, {size / 2**20:.0f} MiB of bf16")


if __name__ == "__main__":
    main()
