#include "converters/tokenizer/hf_tokenizer_to_gguf.hpp"

#include <fstream>
#include <map>
#include <sstream>

#include "schema/error.hpp"
#include "tokenizer/hf_tokenizer_reader.hpp"
#include "tokenizer/pretokenizer_presets.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
// The input files: std::map objects. An ordered_json object finds a key by a
// linear scan, so parsing a 32k-entry vocabulary into one took O(n^2)
// (~0.9 s of a 32k-vocabulary HF -> GGUF convert; bench/RESULTS.md).
using Doc = nlohmann::json;

// llama.cpp token types (llama_token_type / gguf-py TokenType).
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

Doc load_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error("io.open", {path.string(), {}, {}}, "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return Doc::parse(ss.str());
  } catch (const Doc::exception& e) {
    throw bad_input("tokenizer.101", {path.string(), {}, {}}, std::string("not valid JSON: ") + e.what());
  }
}

json kv(const std::string& key, const std::string& type, json value) {
  return json{{"key", key}, {"type", type}, {"value", std::move(value)}};
}
json array_kv(const std::string& key, const std::string& element_type, json values) {
  return json{{"key", key}, {"type", "array"}, {"element_type", element_type}, {"value", std::move(values)}};
}

// A special token named in tokenizer_config.json: a string or {"content": ...}.
std::string token_text(const Doc& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return {};
}

bool is_byte_token(const std::string& t) {  // "<0x0A>"
  return t.size() == 6 && t.rfind("<0x", 0) == 0 && t[5] == '>';
}

}  // namespace

bool has_hf_tokenizer(const fs::path& folder) {
  std::error_code ec;
  return fs::is_regular_file(folder / "tokenizer.json", ec);
}

namespace {

// id -> token text of a tokenizer.json: the model vocabulary first, then added tokens.
struct HfVocabulary {
  std::map<uint64_t, std::string> by_id;
  std::map<uint64_t, bool> special;  // added tokens: special or user-defined
  std::map<uint64_t, double> scores;  // Unigram pieces only
};

HfVocabulary read_vocabulary(const Doc& tok, const std::string& type, const std::string& file, uint64_t vocab_size) {
  const Doc& model = tok["model"];
  HfVocabulary v;
  if (type == "BPE" || type == "WordPiece" || type == "WordLevel") {
    if (!model.contains("vocab") || !model["vocab"].is_object())
      throw bad_input("tokenizer.103", {file, {}, {}}, "/model/vocab is not an object");
    for (const auto& [text, id] : model["vocab"].items()) {
      if (!id.is_number_unsigned())
        throw bad_input("tokenizer.104", {file, {}, {}}, "/model/vocab/" + text + " is not a token id");
      v.by_id[id.get<uint64_t>()] = text;
    }
  } else if (type == "Unigram") {
    if (!model.contains("vocab") || !model["vocab"].is_array())
      throw bad_input("tokenizer.103", {file, {}, {}}, "/model/vocab is not an array");
    uint64_t id = 0;
    for (const auto& entry : model["vocab"]) {
      if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() || !entry[1].is_number())
        throw bad_input("tokenizer.104", {file, {}, {}}, "/model/vocab/" + std::to_string(id) + " is not [piece, score]");
      v.by_id[id] = entry[0].get<std::string>();
      v.scores[id] = entry[1].get<double>();
      ++id;
    }
  } else {
    throw bad_input("tokenizer.105", {file, {}, {}}, "tokenizer model type '" + type + "' is not supported (BPE, Unigram)");
  }
  if (tok.contains("added_tokens") && tok["added_tokens"].is_array()) {
    for (const auto& t : tok["added_tokens"]) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_unsigned() || !t.contains("content"))
        throw bad_input("tokenizer.106", {file, {}, {}}, "/added_tokens entry without id and content");
      const uint64_t id = t["id"].get<uint64_t>();
      v.by_id[id] = t["content"].get<std::string>();
      v.special[id] = t.value("special", false);
    }
  }
  if (!v.by_id.empty() && v.by_id.rbegin()->first >= vocab_size)
    throw bad_input("tokenizer.107", {file, {}, {}},
                    "token id " + std::to_string(v.by_id.rbegin()->first) + " is beyond the model's " +
                        std::to_string(vocab_size) + "-row embedding");
  return v;
}

// tokenizer.ggml.tokens / token_type / scores, one entry per embedding row
// (rows without a token are unused [PADn] pieces).
void push_token_arrays(json& kvs, const HfVocabulary& v, uint64_t vocab_size, bool spm_style) {
  json tokens = json::array(), types = json::array(), score_values = json::array();
  for (uint64_t id = 0; id < vocab_size; ++id) {
    auto it = v.by_id.find(id);
    if (it == v.by_id.end()) {
      tokens.push_back("[PAD" + std::to_string(id) + "]");
      types.push_back(kUnused);
      score_values.push_back(-1e4);
      continue;
    }
    const std::string& text = it->second;
    tokens.push_back(text);
    int32_t t = kNormal;
    if (auto sp = v.special.find(id); sp != v.special.end()) t = sp->second ? kControl : kUserDefined;
    else if (spm_style && is_byte_token(text)) t = kByte;
    types.push_back(t);
    // SentencePiece-style vocabularies rank pieces by score; BPE ones without
    // scores get -id, so earlier (more frequent) merges win, as in the HF file order.
    auto sc = v.scores.find(id);
    score_values.push_back(sc != v.scores.end() ? sc->second : -double(id));
  }
  kvs.push_back(array_kv("tokenizer.ggml.tokens", "string", tokens));
  if (spm_style) kvs.push_back(array_kv("tokenizer.ggml.scores", "f32", score_values));
  kvs.push_back(array_kv("tokenizer.ggml.token_type", "i32", types));
}

json merges_kv(const Doc& model, const std::string& file) {
  json merges = json::array();
  if (model.contains("merges") && model["merges"].is_array()) {
    for (const auto& m : model["merges"]) {
      if (m.is_string()) merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
        merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());  // newer tokenizers
      else throw bad_input("tokenizer.108", {file, {}, {}}, "/model/merges entry is not \"a b\" or [a, b]");
    }
  }
  return array_kv("tokenizer.ggml.merges", "string", merges);
}

// Special token ids, by their text in tokenizer_config.json.
void push_special_token_ids(json& kvs, const Doc& cfg, const HfVocabulary& v) {
  auto id_of = [&](const std::string& text) -> std::optional<uint64_t> {
    for (const auto& [id, t] : v.by_id)
      if (t == text) return id;
    return std::nullopt;
  };
  const std::pair<const char*, const char*> kSpecial[] = {{"bos_token", "tokenizer.ggml.bos_token_id"},
                                                         {"eos_token", "tokenizer.ggml.eos_token_id"},
                                                         {"unk_token", "tokenizer.ggml.unknown_token_id"},
                                                         {"pad_token", "tokenizer.ggml.padding_token_id"}};
  for (const auto& [cfg_key, gguf_key] : kSpecial) {
    if (!cfg.contains(cfg_key)) continue;
    const std::string text = token_text(cfg[cfg_key]);
    if (text.empty()) continue;
    if (auto id = id_of(text)) kvs.push_back(kv(gguf_key, "u32", *id));
  }
}

// add_bos / add_eos / add_space_prefix: from the tokenizer as supra runs it,
// else (a tokenizer supra cannot run) the tokenizer_config.json flags.
void push_flags(json& kvs, const std::optional<TokenizerSpec>& spec, const Doc& cfg, bool spm_style) {
  if (spec) {
    kvs.push_back(kv("tokenizer.ggml.add_bos_token", "bool", spec->add_bos));
    kvs.push_back(kv("tokenizer.ggml.add_eos_token", "bool", spec->add_eos));
    if (spm_style) {
      bool prepends = false;  // Prepend("▁") normalizer, or a Metaspace that prepends
      for (const NormalizerStep& n : spec->normalizer)
        prepends = prepends || (n.kind == NormalizerStep::Kind::Prepend && n.text == "\xE2\x96\x81");
      for (const PreTokenizerStep& p : spec->pre_tokenizer)
        prepends = prepends || (p.kind == PreTokenizerStep::Kind::Metaspace && p.prepend_scheme != PrependScheme::Never);
      kvs.push_back(kv("tokenizer.ggml.add_space_prefix", "bool", prepends));
    }
    return;
  }
  if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean())
    kvs.push_back(kv("tokenizer.ggml.add_bos_token", "bool", cfg["add_bos_token"].get<bool>()));
  if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean())
    kvs.push_back(kv("tokenizer.ggml.add_eos_token", "bool", cfg["add_eos_token"].get<bool>()));
}

json tokenizer_kvs(const fs::path& folder, uint64_t vocab_size) {
  const fs::path tok_path = folder / "tokenizer.json";
  const std::string file = tok_path.string();
  const Doc tok = load_json(tok_path);
  const Doc cfg = fs::exists(folder / "tokenizer_config.json") ? load_json(folder / "tokenizer_config.json") : Doc::object();
  if (!tok.is_object() || !tok.contains("model") || !tok["model"].is_object())
    throw bad_input("tokenizer.102", {file, {}, {}}, "no \"model\" object at /model");
  const Doc& model = tok["model"];
  const std::string type = model.value("type", "");
  const bool byte_fallback = model.value("byte_fallback", false);
  const bool byte_level = tok.contains("pre_tokenizer") && tok["pre_tokenizer"].is_object() &&
                          (tok["pre_tokenizer"].value("type", "") == "ByteLevel" ||
                           tok["pre_tokenizer"].dump().find("\"ByteLevel\"") != std::string::npos);
  const HfVocabulary vocabulary = read_vocabulary(tok, type, file, vocab_size);

  const bool spm_style = type == "Unigram" || byte_fallback || !byte_level;
  // What llama.cpp cannot read from the vocabulary alone, taken from the
  // tokenizer as supra runs it: the pre-tokenizer's name, whether a space is
  // put before the text, and the BOS / EOS the post-processor adds. A
  // tokenizer supra cannot run (Unigram, WordPiece, ...) keeps the old
  // defaults: "default" and the tokenizer_config.json flags.
  std::optional<TokenizerSpec> spec;
  try {
    spec = tokenizer_spec_from_hf(nlohmann::json(tok), nlohmann::json(cfg), file);
  } catch (const Error&) {
  }

  json kvs = json::array();
  kvs.push_back(kv("tokenizer.ggml.model", "string", spm_style ? "llama" : "gpt2"));
  // The pre-tokenizer llama.cpp names (tokenizer/); without a parsed spec,
  // a plain ByteLevel pre-tokenizer splits with GPT-2's regex: llama.cpp's "gpt-2".
  // Its "default" is another split (punctuation runs, digits in threes).
  const bool gpt2_split = byte_level && tok["pre_tokenizer"].value("type", "") == "ByteLevel" &&
                          tok["pre_tokenizer"].value("use_regex", true);
  const std::string pre = spec ? gguf_pre_name(spec->pre_tokenizer) : gpt2_split ? "gpt-2" : "default";
  if (!spm_style) kvs.push_back(kv("tokenizer.ggml.pre", "string", pre));
  push_token_arrays(kvs, vocabulary, vocab_size, spm_style);
  if (!spm_style) kvs.push_back(merges_kv(model, file));
  push_special_token_ids(kvs, cfg, vocabulary);
  push_flags(kvs, spec, cfg, spm_style);
  return kvs;
}

}  // namespace

json hf_tokenizer_to_gguf_kvs(const fs::path& folder, uint64_t vocab_size) {
  // Far more than any vocabulary (the largest are ~256 K): an embedding of
  // zero-width rows can claim any count, and a token is made per row.
  constexpr uint64_t kMaxVocab = 1ull << 24;
  const std::string file = (folder / "tokenizer.json").string();
  if (vocab_size > kMaxVocab)
    throw bad_input("tokenizer.110", {file, {}, {}},
                    "the embedding has " + std::to_string(vocab_size) + " rows, more than a vocabulary can have");
  try {
    return tokenizer_kvs(folder, vocab_size);
  } catch (const json::exception& e) {  // type_error: a field of the wrong JSON type ("content": 5)
    throw bad_input("tokenizer.109", {file, {}, {}}, std::string("a field has the wrong JSON type: ") + e.what());
  }
}

}  // namespace supra
