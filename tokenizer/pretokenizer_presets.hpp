#pragma once
// The byte-level pre-tokenizers llama.cpp knows by name (tokenizer.ggml.pre)
// that supra reads and writes: each with the regexes llama.cpp runs and the
// ones the model's tokenizer.json has (llama.cpp rewrites "(?i:'s|...)" as
// "(?:'[sS]|...)", which differs on "'ſ" and the Kelvin sign), and the
// settings the name implies in llama.cpp (ignore_merges, add_bos).
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer_spec.hpp"

namespace supra {

struct PreTokenizerPreset {
  std::vector<std::string> names;           // first: what supra writes; the rest: aliases llama.cpp accepts
  std::vector<std::string> llama_regexes;   // as llama.cpp runs them, one Split each
  std::vector<std::string> hf_regexes;      // as tokenizer.json has them; empty: ByteLevel's own (GPT-2)
  bool ignore_merges = false;
  bool add_bos = false;
};

extern const char* const kGpt2Regex;  // ByteLevel(use_regex=true) in tokenizers

const std::vector<PreTokenizerPreset>& pre_tokenizer_presets();
const PreTokenizerPreset* find_pre_tokenizer_preset(std::string_view gguf_pre);

// The tokenizer.ggml.pre name for a parsed tokenizer.json pre-tokenizer: a
// preset whose regexes it runs, else "default" (llama.cpp's generic rules,
// which can tokenize differently).
std::string gguf_pre_name(const std::vector<PreTokenizerStep>& steps);

}  // namespace supra
