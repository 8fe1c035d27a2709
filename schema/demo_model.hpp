#pragma once
// The built-in demo model: a tiny Llama-shaped checkpoint (Hugging Face
// names) with deterministic pseudo-random weights, so every command can be
// tried without downloading anything.
#include <cstdint>

#include "schema/checkpoint.hpp"

namespace supra {

struct DemoModelShape {
  uint64_t vocab = 260;  // 256 byte tokens, 2 merges, bos, eos (see demo_tokenizer_json)
  uint64_t hidden = 64;
  uint64_t layers = 2;
  uint64_t heads = 4;
  uint64_t kv_heads = 2;  // grouped-query attention, the case conversions get wrong
  uint64_t ffn = 172;
};

Checkpoint make_demo_checkpoint(const DemoModelShape& shape, DType dtype, uint32_t seed = 0);

// Hugging Face companions of the demo weights, so the demo folder loads like
// a real model folder: config.json (LlamaForCausalLM) and a byte-level BPE
// tokenizer.json (GPT-2 byte alphabet, two merges, <|bos|> and <|eos|>).
std::string demo_config_json(const DemoModelShape& shape, DType dtype);
std::string demo_tokenizer_json();
std::string demo_tokenizer_config_json();

}  // namespace supra
