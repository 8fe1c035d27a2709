#include "tokenizer/gguf_tokenizer_reader.hpp"

#include <map>

#include "schema/error.hpp"
#include "tokenizer/pretokenizer_presets.hpp"

namespace supra {
namespace {

using ojson = nlohmann::ordered_json;

class Kvs {
 public:
  Kvs(const ojson& kvs, const std::string& source) : source_(source) {
    if (!kvs.is_array()) fail("", "GGUF metadata is not an array of key/values");
    for (const auto& kv : kvs)
      if (kv.is_object() && kv.contains("key") && kv["key"].is_string() && kv.contains("value"))
        by_key_[kv["key"].get<std::string>()] = &kv;
  }
  const ojson* find(const std::string& key) const {
    auto it = by_key_.find(key);
    return it == by_key_.end() ? nullptr : it->second;
  }
  std::string string(const std::string& key, const std::string& fallback) const {
    const ojson* kv = find(key);
    if (!kv) return fallback;
    if (!(*kv)["value"].is_string()) fail(key, "expected a string");
    return (*kv)["value"].get<std::string>();
  }
  std::optional<bool> boolean(const std::string& key) const {
    const ojson* kv = find(key);
    if (!kv) return std::nullopt;
    if (!(*kv)["value"].is_boolean()) fail(key, "expected a bool");
    return (*kv)["value"].get<bool>();
  }
  std::optional<uint64_t> uint(const std::string& key) const {
    const ojson* kv = find(key);
    if (!kv) return std::nullopt;
    if (!(*kv)["value"].is_number_unsigned()) fail(key, "expected an unsigned integer");
    return (*kv)["value"].get<uint64_t>();
  }
  const ojson* array(const std::string& key, bool required) const {
    const ojson* kv = find(key);
    if (!kv) {
      if (required) fail(key, "missing");
      return nullptr;
    }
    if (!(*kv)["value"].is_array()) fail(key, "expected an array");
    return &(*kv)["value"];
  }
  [[noreturn]] void fail(const std::string& key, const std::string& detail) const {
    throw bad_input("tokenizer.221", {source_, {}, {}}, (key.empty() ? "" : key + ": ") + detail);
  }

 private:
  std::string source_;
  std::map<std::string, const ojson*> by_key_;
};

void read_vocabulary(const Kvs& kvs, TokenizerSpec& spec) {
  const ojson& tokens = *kvs.array("tokenizer.ggml.tokens", true);
  spec.tokens.reserve(tokens.size());
  bool changed = false;
  for (const auto& t : tokens) {
    if (!t.is_string()) kvs.fail("tokenizer.ggml.tokens", "expected strings");
    const std::string& stored = t.get_ref<const std::string&>();
    // llama.cpp reads token strings as C strings (cut at a NUL) and names an
    // empty one "[EMPTY_<id>]"; tokenizing as llama.cpp does needs the same view.
    std::string seen = stored.substr(0, stored.find('\0'));
    if (seen.empty()) seen = "[EMPTY_" + std::to_string(spec.tokens.size()) + "]";
    changed = changed || seen != stored;
    spec.tokens.push_back(std::move(seen));
  }
  if (changed)
    for (const auto& t : tokens) spec.file_tokens.push_back(t.get<std::string>());
  const size_t n = spec.tokens.size();
  spec.types.assign(n, TokenType::Normal);
  if (const ojson* types = kvs.array("tokenizer.ggml.token_type", false)) {
    if (types->size() != n) kvs.fail("tokenizer.ggml.token_type", "has " + std::to_string(types->size()) + " entries for " + std::to_string(n) + " tokens");
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = (*types)[i].is_number_integer() ? (*types)[i].get<int64_t>() : -1;
      if (t < 1 || t > 6) kvs.fail("tokenizer.ggml.token_type", "entry " + std::to_string(i) + " is not a token type (1-6)");
      spec.types[i] = static_cast<TokenType>(t);
    }
  }
  spec.scores.assign(n, 0.0f);
  if (const ojson* scores = kvs.array("tokenizer.ggml.scores", false)) {
    if (scores->size() < n) kvs.fail("tokenizer.ggml.scores", "fewer scores than tokens");
    for (size_t i = 0; i < n; ++i) {
      if (!(*scores)[i].is_number()) kvs.fail("tokenizer.ggml.scores", "expected numbers");
      spec.scores[i] = (*scores)[i].get<float>();
    }
  }
  // What llama.cpp's tokenizer_st_partition cuts out of the text.
  for (uint32_t id = 0; id < n; ++id) {
    const TokenType t = spec.types[id];
    if (t != TokenType::Control && t != TokenType::UserDefined && t != TokenType::Unknown) continue;
    AddedToken a;
    a.id = id;
    a.content = spec.tokens[id];
    a.special = t != TokenType::UserDefined;
    spec.added_tokens.push_back(std::move(a));
  }
}

void read_merges(const Kvs& kvs, TokenizerSpec& spec) {
  const ojson& merges = *kvs.array("tokenizer.ggml.merges", true);
  std::map<std::string, uint32_t> index;  // the last id of a repeated string, as llama.cpp's token_to_id
  for (uint32_t id = 0; id < spec.tokens.size(); ++id) index[spec.tokens[id]] = id;
  spec.merges.reserve(merges.size());
  for (const auto& m : merges) {
    if (!m.is_string()) kvs.fail("tokenizer.ggml.merges", "expected strings");
    const std::string s = m.get<std::string>();
    const size_t space = s.find(' ', 1);  // as llama.cpp splits: a token may begin with a space
    if (space == std::string::npos) continue;
    auto a = index.find(s.substr(0, space)), b = index.find(s.substr(space + 1));
    auto merged = index.find(s.substr(0, space) + s.substr(space + 1));
    // llama.cpp keeps such merges but can never use them to make a token.
    if (a == index.end() || b == index.end() || merged == index.end()) continue;
    spec.merges.emplace_back(a->second, b->second);
  }
}

void configure_gpt2(const Kvs& kvs, TokenizerSpec& spec) {
  spec.merge_rule = MergeRule::Ranks;
  spec.repeated_merge_keeps_first = true;
  spec.unknown_char = UnknownChar::Drop;
  spec.decode.byte_level = true;
  spec.gguf_pre = kvs.string("tokenizer.ggml.pre", "default");
  const PreTokenizerPreset* preset = find_pre_tokenizer_preset(spec.gguf_pre);
  if (!preset) kvs.fail("tokenizer.ggml.pre", "pre-tokenizer '" + spec.gguf_pre + "' is not one supra knows (gpt-2, llama-bpe, qwen2, default)");
  for (const std::string& re : preset->llama_regexes) {
    PreTokenizerStep s;
    s.kind = PreTokenizerStep::Kind::Split;
    s.regex = std::make_shared<const SplitRegex>(re, spec.source);
    spec.pre_tokenizer.push_back(std::move(s));
  }
  PreTokenizerStep byte_level;
  byte_level.kind = PreTokenizerStep::Kind::ByteLevel;
  spec.pre_tokenizer.push_back(std::move(byte_level));
  spec.ignore_merges = preset->ignore_merges;
  spec.add_bos = preset->add_bos;
  spec.bos_id = 11;
  spec.eos_id = 11;
  read_merges(kvs, spec);
}

void configure_llama(const Kvs& kvs, TokenizerSpec& spec) {
  spec.merge_rule = MergeRule::Scores;
  spec.unknown_char = UnknownChar::ByteFallback;
  spec.add_space_prefix = kvs.boolean("tokenizer.ggml.add_space_prefix").value_or(true);
  // llama.cpp puts a space before each piece of text that starts the input or
  // follows a special token, then writes every space as U+2581.
  if (spec.add_space_prefix) spec.normalizer.push_back({NormalizerStep::Kind::Prepend, "\xE2\x96\x81", nullptr, "", ""});
  spec.normalizer.push_back({NormalizerStep::Kind::Replace, " ", nullptr, "\xE2\x96\x81", ""});
  spec.decode.metaspace = true;
  spec.decode.byte_tokens = true;
  spec.decode.strip_leading_spaces = spec.add_space_prefix ? 1 : 0;
  spec.add_bos = true;
  spec.bos_id = 1;
  spec.eos_id = 2;
  spec.unk_id = 0;
}

// Default ids out of range are dropped; a key out of range keeps the default (llama.cpp).
void read_special_ids(const Kvs& kvs, TokenizerSpec& spec) {
  const size_t n = spec.tokens.size();
  auto apply = [&](const char* key, std::optional<uint32_t>& id) {
    if (id && *id >= n) id.reset();
    if (auto v = kvs.uint(key); v && *v < n) id = uint32_t(*v);
  };
  apply("tokenizer.ggml.bos_token_id", spec.bos_id);
  apply("tokenizer.ggml.eos_token_id", spec.eos_id);
  apply("tokenizer.ggml.unknown_token_id", spec.unk_id);
  apply("tokenizer.ggml.padding_token_id", spec.pad_id);
  if (auto v = kvs.boolean("tokenizer.ggml.add_bos_token")) spec.add_bos = *v;
  if (auto v = kvs.boolean("tokenizer.ggml.add_eos_token")) spec.add_eos = *v;
  if (spec.add_bos && spec.bos_id) spec.prefix_ids = {*spec.bos_id};
  if (spec.add_eos && spec.eos_id) spec.suffix_ids = {*spec.eos_id};
}

}  // namespace

bool gguf_has_tokenizer(const nlohmann::ordered_json& kvs) {
  if (!kvs.is_array()) return false;
  for (const auto& kv : kvs)
    if (kv.is_object() && kv.value("key", "") == "tokenizer.ggml.model" && kv.contains("value") && kv["value"].is_string()) {
      const std::string m = kv["value"].get<std::string>();
      return m != "none" && m != "no_vocab";
    }
  return false;
}

TokenizerSpec tokenizer_spec_from_gguf(const nlohmann::ordered_json& j, const std::string& source) {
  const Kvs kvs(j, source);
  TokenizerSpec spec;
  spec.source = source;
  spec.origin = "gguf";
  spec.added_search = AddedTokenSearch::LongestFirst;
  spec.gguf_model = kvs.string("tokenizer.ggml.model", "");
  if (spec.gguf_model.empty()) kvs.fail("tokenizer.ggml.model", "missing: the GGUF has no tokenizer");
  if (spec.gguf_model == "none" || spec.gguf_model == "no_vocab")
    throw bad_input("tokenizer.222", {source, {}, {}}, "the GGUF has no vocabulary (tokenizer.ggml.model = " + spec.gguf_model + ")");
  if (spec.gguf_model != "gpt2" && spec.gguf_model != "llama")
    throw bad_input("tokenizer.223", {source, {}, {}}, "tokenizer.ggml.model '" + spec.gguf_model + "' is not supported (gpt2, llama)");
  read_vocabulary(kvs, spec);
  if (spec.gguf_model == "gpt2") configure_gpt2(kvs, spec);
  else configure_llama(kvs, spec);
  read_special_ids(kvs, spec);
  return spec;
}

}  // namespace supra
