#include "tokenizer/pretokenizer_presets.hpp"

namespace supra {

const char* const kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

const std::vector<PreTokenizerPreset>& pre_tokenizer_presets() {
  // From llama.cpp's llm_tokenizer_bpe (src/llama-vocab.cpp) and the models' tokenizer.json files.
  static const std::vector<PreTokenizerPreset> presets = {
      {{"gpt-2", "phi-2", "mpt", "olmo", "jais", "exaone4"},
       {R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))"},
       {},
       false,
       false},
      {{"llama-bpe", "llama3", "llama-v3", "falcon3", "pixtral"},
       {R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
       {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
       true,
       true},
      {{"qwen2", "deepseek-r1-qwen", "megrez"},
       {R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
       {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
       false,
       false},
      {{"default"},
       {R"([\p{P}\$\+<=>\^~\|]+)", R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
        R"(\p{N}+)", R"([0-9][0-9][0-9])"},
       {R"([\p{P}\$\+<=>\^~\|]+)", R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
        R"(\p{N}+)", R"([0-9][0-9][0-9])"},
       false,
       false},
  };
  return presets;
}

const PreTokenizerPreset* find_pre_tokenizer_preset(std::string_view gguf_pre) {
  for (const PreTokenizerPreset& p : pre_tokenizer_presets())
    for (const std::string& n : p.names)
      if (n == gguf_pre) return &p;
  return nullptr;
}

std::string gguf_pre_name(const std::vector<PreTokenizerStep>& steps) {
  using Kind = PreTokenizerStep::Kind;
  if (steps.empty() || steps.back().kind != Kind::ByteLevel || steps.back().add_prefix_space) return "default";
  const PreTokenizerStep& byte_level = steps.back();
  std::vector<std::string> regexes;
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    const PreTokenizerStep& s = steps[i];
    if (s.kind != Kind::Split || s.behavior != SplitBehavior::Isolated || s.invert) return "default";
    regexes.push_back(s.regex->pattern());
  }
  if (byte_level.regex) {  // ByteLevel(use_regex=true) splits with the GPT-2 regex after the Splits
    if (!regexes.empty()) return "default";
    return "gpt-2";
  }
  for (const PreTokenizerPreset& p : pre_tokenizer_presets())
    if (!p.hf_regexes.empty() && p.hf_regexes == regexes) return p.names.front();
  return "default";
}

}  // namespace supra
