#pragma once
// Reads the tokenizer.ggml.* keys of a GGUF into a TokenizerSpec with
// llama.cpp's semantics (src/llama-vocab.cpp): model "gpt2" is byte-level
// BPE with tokenizer.ggml.merges and the split regexes named by
// tokenizer.ggml.pre; model "llama" is SentencePiece with scores (merge by
// score, <0xXX> byte fallback, a space before the text and after every
// special token unless tokenizer.ggml.add_space_prefix is false). Control,
// user-defined and unknown tokens are matched literally, longest first;
// BOS / EOS ids and add flags default as llama.cpp's do.
#include <nlohmann/json.hpp>
#include <string>

#include "tokenizer/tokenizer_spec.hpp"

namespace supra {

// `kvs`: [{"key": ..., "type": ..., "value": ...}, ...] (format_metadata["gguf"]).
// Throws bad_input("tokenizer.22x") when a key is missing, mistyped or unsupported.
TokenizerSpec tokenizer_spec_from_gguf(const nlohmann::ordered_json& kvs, const std::string& source);

// True when the KVs name a tokenizer (tokenizer.ggml.model other than "none" / "no_vocab").
bool gguf_has_tokenizer(const nlohmann::ordered_json& kvs);

}  // namespace supra
