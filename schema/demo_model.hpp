#pragma once
// The built-in demo model: a tiny Llama-shaped checkpoint (Hugging Face
// names) with deterministic pseudo-random weights, so every command can be
// tried without downloading anything.
#include <cstdint>

#include "schema/checkpoint.hpp"

namespace supra {

struct DemoModelShape {
  uint64_t vocab = 256;
  uint64_t hidden = 64;
  uint64_t layers = 2;
  uint64_t heads = 4;
  uint64_t kv_heads = 2;  // grouped-query attention, the case conversions get wrong
  uint64_t ffn = 172;
};

Checkpoint make_demo_checkpoint(const DemoModelShape& shape, DType dtype, uint32_t seed = 0);

}  // namespace supra
