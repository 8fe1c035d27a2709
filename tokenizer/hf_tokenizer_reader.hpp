#pragma once
// Reads a Hugging Face tokenizer (tokenizer.json + tokenizer_config.json)
// into a TokenizerSpec with tokenizers' semantics. Supported: model BPE
// (byte-level or with byte_fallback, merges as "a b" or [a, b],
// ignore_merges, unk / fuse_unk); normalizers Sequence, Prepend, Replace,
// NFC/NFD/NFKC/NFKD; pre-tokenizers Sequence, Split, ByteLevel, Metaspace,
// Digits, Whitespace, WhitespaceSplit; post-processors TemplateProcessing,
// ByteLevel, Sequence, RobertaProcessing, BertProcessing; decoders
// ByteLevel, Metaspace, Sequence, Replace("▁", " "), ByteFallback, Fuse,
// Strip. Anything else is refused with a tokenizer.2xx error naming the
// JSON path, rather than tokenized differently.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_spec.hpp"

namespace supra {

// Throws io_error / bad_input("tokenizer.201") for an unreadable or malformed file.
nlohmann::json read_tokenizer_json_file(const std::filesystem::path& path);

TokenizerSpec tokenizer_spec_from_hf(const nlohmann::json& tokenizer_json, const nlohmann::json& tokenizer_config,
                                     const std::string& source);

std::vector<PreTokenizerStep> pre_tokenizer_from_hf(const nlohmann::json& pre, const std::string& source,
                                                    const std::string& path = "/pre_tokenizer");
std::vector<NormalizerStep> normalizer_from_hf(const nlohmann::json& normalizer, const std::string& source,
                                               const std::string& path = "/normalizer");

}  // namespace supra
