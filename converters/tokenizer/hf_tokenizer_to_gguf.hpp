#pragma once
// Turns a Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) into
// the tokenizer.ggml.* keys llama.cpp needs to load a GGUF: byte-level BPE
// (GPT-2 style: tokens, token types, merges) or SentencePiece-style
// (byte_fallback BPE / Unigram: tokens, scores, token types), with bos / eos /
// unk / pad ids and the add-bos / add-eos flags.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace supra {

// Returns KVs in the format_metadata["gguf"] JSON form (converters/gguf/gguf_metadata.hpp):
// [{"key": "tokenizer.ggml.model", "type": "string", "value": "gpt2"}, ...].
// `vocab_size` is the embedding row count: ids the tokenizer does not name are
// filled with "[PAD<id>]" tokens so the vocabulary matches the tensors.
// Throws bad_input("tokenizer.1xx") naming the file and JSON path on malformed input.
nlohmann::ordered_json hf_tokenizer_to_gguf_kvs(const std::filesystem::path& folder, uint64_t vocab_size);

// True when `folder` has a tokenizer.json to convert.
bool has_hf_tokenizer(const std::filesystem::path& folder);

}  // namespace supra
