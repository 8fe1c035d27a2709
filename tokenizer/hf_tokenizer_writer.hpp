#pragma once
// Writes a GGUF vocabulary back as Hugging Face files (tokenizer.json +
// tokenizer_config.json), for `supra convert model.gguf ./hf-dir`: byte-level
// vocabularies get their merges and the tokenizer.json spelling of their
// pre-tokenizer regexes; SentencePiece vocabularies (scores, no merges) get
// BPE merges made from the scores, byte fallback and the Llama-2 normalizer
// and decoder, so tokenizers gives the ids llama.cpp gives.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/tokenizer_spec.hpp"

namespace supra {

// {("tokenizer.json", text), ("tokenizer_config.json", text)}; empty when the
// KVs carry no tokenizer. Throws bad_input("tokenizer.2xx") for malformed keys.
std::vector<std::pair<std::string, std::string>> hf_tokenizer_files_from_gguf(const nlohmann::ordered_json& kvs,
                                                                              const std::string& source);

// The parts, for tests. `spec` comes from tokenizer_spec_from_gguf.
nlohmann::ordered_json hf_tokenizer_json_from_spec(const TokenizerSpec& spec);
nlohmann::ordered_json hf_tokenizer_config_from_spec(const TokenizerSpec& spec);

// SentencePiece -> BPE: every split of a token into two tokens is a merge,
// ranked by the merged token's score (highest first), as transformers'
// converter from sentencepiece does.
std::vector<std::pair<uint32_t, uint32_t>> merges_from_scores(const TokenizerSpec& spec);

}  // namespace supra
