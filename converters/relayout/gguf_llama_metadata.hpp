#pragma once
// The model KVs llama.cpp needs for a GGUF of a Llama-family model
// (llama.cpp src/llama-model.cpp load_hparams; docs/gguf.md), produced from a ModelSpec, in the typed JSON form the
// GGUF writer reads from Checkpoint::format_metadata["gguf"]:
//   [{"key": "llama.block_count", "type": "u32", "value": 2}, ...]
// Types are exact (llama.cpp rejects a u64 where it expects u32): counts u32,
// floats f32, names string. Tokenizer keys are not included (see
// converters/tokenizer); `vocab_size` is, so a vocab-less file still loads.
#include <nlohmann/json.hpp>

#include "schema/model_spec.hpp"

namespace supra {

// For spec.architecture "llama" (also Mistral) and "qwen2"; throws
// usage_error(usage.gguf-architecture) for others.
nlohmann::ordered_json gguf_llama_metadata(const ModelSpec& spec);

}  // namespace supra
