#include "tokenizer/hf_tokenizer_reader.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include "schema/error.hpp"
#include "tokenizer/pretokenizer_presets.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

// A token id: a non-negative integer (parsed JSON stores those unsigned, built JSON may not).
bool is_id(const json& j) {
  return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0 && j.get<int64_t>() <= 0xFFFFFFFFll);
}

[[noreturn]] void malformed(const std::string& source, const std::string& path, const std::string& detail) {
  throw bad_input("tokenizer.202", {source, {}, {}}, path + ": " + detail);
}
[[noreturn]] void unsupported(const std::string& source, const std::string& path, const std::string& what) {
  throw bad_input("tokenizer.206", {source, {}, {}}, path + ": " + what + " is not supported");
}

struct Reader {
  const std::string& source;

  std::string type_of(const json& j, const std::string& path) const {
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) malformed(source, path, "expected an object with a \"type\"");
    return j["type"].get<std::string>();
  }
  bool boolean(const json& j, const char* key, bool fallback, const std::string& path) const {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_boolean()) malformed(source, path + "/" + key, "expected true or false");
    return j[key].get<bool>();
  }
  std::string string(const json& j, const char* key, const std::string& fallback, const std::string& path) const {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_string()) malformed(source, path + "/" + key, "expected a string");
    return j[key].get<std::string>();
  }
  const json& array(const json& j, const char* key, const std::string& path) const {
    if (!j.contains(key) || !j[key].is_array()) malformed(source, path + "/" + key, "expected an array");
    return j[key];
  }
  // {"String": "x"} or {"Regex": "..."}
  std::shared_ptr<const SplitRegex> pattern(const json& j, const std::string& path) const {
    if (j.is_object() && j.contains("String") && j["String"].is_string())
      return std::make_shared<const SplitRegex>(SplitRegex::literal(j["String"].get<std::string>(), source));
    if (j.is_object() && j.contains("Regex") && j["Regex"].is_string())
      return std::make_shared<const SplitRegex>(j["Regex"].get<std::string>(), source);
    malformed(source, path, "expected {\"String\": ...} or {\"Regex\": ...}");
  }
};

SplitBehavior behavior_from(const std::string& name, const Reader& r, const std::string& path) {
  static const std::pair<const char*, SplitBehavior> kNames[] = {
      {"Removed", SplitBehavior::Removed},
      {"Isolated", SplitBehavior::Isolated},
      {"MergedWithPrevious", SplitBehavior::MergedWithPrevious},
      {"MergedWithNext", SplitBehavior::MergedWithNext},
      {"Contiguous", SplitBehavior::Contiguous}};
  for (const auto& [n, b] : kNames)
    if (name == n) return b;
  malformed(r.source, path, "unknown split behavior '" + name + "'");
}

PreTokenizerStep split_step(std::shared_ptr<const SplitRegex> regex, SplitBehavior behavior, bool invert) {
  PreTokenizerStep s;
  s.kind = PreTokenizerStep::Kind::Split;
  s.regex = std::move(regex);
  s.behavior = behavior;
  s.invert = invert;
  return s;
}

void read_pre_tokenizer(const json& j, const Reader& r, const std::string& path, std::vector<PreTokenizerStep>& out) {
  if (j.is_null()) return;
  const std::string type = r.type_of(j, path);
  if (type == "Sequence") {
    const json& list = r.array(j, "pretokenizers", path);
    for (size_t i = 0; i < list.size(); ++i) read_pre_tokenizer(list[i], r, path + "/pretokenizers/" + std::to_string(i), out);
  } else if (type == "Split") {
    if (!j.contains("pattern")) malformed(r.source, path + "/pattern", "missing");
    out.push_back(split_step(r.pattern(j["pattern"], path + "/pattern"),
                             behavior_from(r.string(j, "behavior", "Isolated", path), r, path + "/behavior"),
                             r.boolean(j, "invert", false, path)));
  } else if (type == "ByteLevel") {
    PreTokenizerStep s;
    s.kind = PreTokenizerStep::Kind::ByteLevel;
    s.add_prefix_space = r.boolean(j, "add_prefix_space", false, path);
    if (r.boolean(j, "use_regex", true, path)) s.regex = std::make_shared<const SplitRegex>(kGpt2Regex, r.source);
    out.push_back(std::move(s));
  } else if (type == "Metaspace") {
    PreTokenizerStep s;
    s.kind = PreTokenizerStep::Kind::Metaspace;
    s.replacement = r.string(j, "replacement", "\xE2\x96\x81", path);
    const std::string scheme = r.string(j, "prepend_scheme", "always", path);
    if (scheme == "always") s.prepend_scheme = PrependScheme::Always;
    else if (scheme == "first") s.prepend_scheme = PrependScheme::First;
    else if (scheme == "never") s.prepend_scheme = PrependScheme::Never;
    else malformed(r.source, path + "/prepend_scheme", "unknown scheme '" + scheme + "'");
    if (!r.boolean(j, "add_prefix_space", true, path)) s.prepend_scheme = PrependScheme::Never;  // older files
    s.split = r.boolean(j, "split", true, path);
    out.push_back(std::move(s));
  } else if (type == "Digits") {
    // tokenizers splits on char::is_numeric (Unicode N): each digit alone, or runs of them.
    const bool each = r.boolean(j, "individual_digits", false, path);
    out.push_back(split_step(std::make_shared<const SplitRegex>("\\p{N}", r.source),
                             each ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false));
  } else if (type == "Whitespace") {
    out.push_back(split_step(std::make_shared<const SplitRegex>("\\w+|[^\\w\\s]+", r.source), SplitBehavior::Removed, true));
  } else if (type == "WhitespaceSplit") {
    out.push_back(split_step(std::make_shared<const SplitRegex>("\\s", r.source), SplitBehavior::Removed, false));
  } else {
    unsupported(r.source, path, "pre-tokenizer '" + type + "'");
  }
}

void read_normalizer(const json& j, const Reader& r, const std::string& path, std::vector<NormalizerStep>& out) {
  if (j.is_null()) return;
  const std::string type = r.type_of(j, path);
  NormalizerStep s;
  if (type == "Sequence") {
    const json& list = r.array(j, "normalizers", path);
    for (size_t i = 0; i < list.size(); ++i) read_normalizer(list[i], r, path + "/normalizers/" + std::to_string(i), out);
    return;
  } else if (type == "Prepend") {
    s.kind = NormalizerStep::Kind::Prepend;
    s.text = r.string(j, "prepend", "", path);
  } else if (type == "Replace") {
    s.kind = NormalizerStep::Kind::Replace;
    if (!j.contains("pattern")) malformed(r.source, path + "/pattern", "missing");
    if (j["pattern"].is_object() && j["pattern"].contains("String") && j["pattern"]["String"].is_string())
      s.text = j["pattern"]["String"].get<std::string>();
    else
      s.regex = r.pattern(j["pattern"], path + "/pattern");
    s.content = r.string(j, "content", "", path);
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    s.kind = NormalizerStep::Kind::Unicode;
    s.form = type;
  } else {
    unsupported(r.source, path, "normalizer '" + type + "'");
  }
  out.push_back(std::move(s));
}

// The decoders of byte-level and SentencePiece-style files, reduced to DecodeRules.
void read_decoder(const json& j, const Reader& r, const std::string& path, DecodeRules& rules, bool& fused) {
  if (j.is_null()) return;
  const std::string type = r.type_of(j, path);
  if (type == "Sequence") {
    const json& list = r.array(j, "decoders", path);
    for (size_t i = 0; i < list.size(); ++i) read_decoder(list[i], r, path + "/decoders/" + std::to_string(i), rules, fused);
  } else if (type == "ByteLevel") {
    rules.byte_level = true;
  } else if (type == "Metaspace") {
    rules.metaspace = true;
    const bool prepends = r.string(j, "prepend_scheme", "always", path) != "never" && r.boolean(j, "add_prefix_space", true, path);
    if (prepends) rules.strip_leading_spaces = 1;
  } else if (type == "Replace") {
    const bool metaspace = j.contains("pattern") && j["pattern"].is_object() && j["pattern"].value("String", "") == "\xE2\x96\x81" &&
                           r.string(j, "content", "", path) == " ";
    if (!metaspace) unsupported(r.source, path, "a Replace decoder other than \"\xE2\x96\x81\" -> \" \"");
    rules.metaspace = true;
  } else if (type == "ByteFallback") {
    rules.byte_tokens = true;
  } else if (type == "Fuse") {
    fused = true;
  } else if (type == "Strip") {
    const bool leading_space = r.string(j, "content", "", path) == " " && j.value("stop", 0) == 0;
    // Before Fuse, Strip would cut every token; only the whole-text form is supported.
    if (!leading_space || !fused) unsupported(r.source, path, "a Strip decoder other than leading spaces after Fuse");
    rules.strip_leading_spaces = j.value("start", 0);
  } else {
    unsupported(r.source, path, "decoder '" + type + "'");
  }
}

struct Template {
  bool present = false;
  std::vector<uint32_t> prefix, suffix;
};

void read_post_processor(const json& j, const Reader& r, const std::string& path, Template& t) {
  if (j.is_null()) return;
  const std::string type = r.type_of(j, path);
  auto id_pair = [&](const char* key) -> uint32_t {  // ["<s>", 0]
    if (!j.contains(key) || !j[key].is_array() || j[key].size() != 2 || !is_id(j[key][1]))
      malformed(r.source, path + "/" + key, "expected [token, id]");
    return j[key][1].get<uint32_t>();
  };
  if (type == "Sequence") {
    const json& list = r.array(j, "processors", path);
    for (size_t i = 0; i < list.size(); ++i) read_post_processor(list[i], r, path + "/processors/" + std::to_string(i), t);
  } else if (type == "ByteLevel") {
    // offsets only
  } else if (type == "RobertaProcessing" || type == "BertProcessing") {
    t.present = true;
    t.prefix = {id_pair("cls")};
    t.suffix = {id_pair("sep")};
  } else if (type == "TemplateProcessing") {
    t.present = true;
    t.prefix.clear();
    t.suffix.clear();
    const json& single = r.array(j, "single", path);
    const json& specials = j.contains("special_tokens") ? j["special_tokens"] : json::object();
    bool after_sequence = false;
    for (size_t i = 0; i < single.size(); ++i) {
      const std::string item = path + "/single/" + std::to_string(i);
      if (single[i].contains("Sequence")) {
        after_sequence = true;
        continue;
      }
      if (!single[i].contains("SpecialToken") || !single[i]["SpecialToken"].contains("id"))
        malformed(r.source, item, "expected {\"Sequence\": ...} or {\"SpecialToken\": {\"id\": ...}}");
      const std::string name = single[i]["SpecialToken"]["id"].get<std::string>();
      if (!specials.contains(name) || !specials[name].contains("ids") || !specials[name]["ids"].is_array())
        malformed(r.source, path + "/special_tokens", "no ids for '" + name + "'");
      for (const auto& id : specials[name]["ids"]) (after_sequence ? t.suffix : t.prefix).push_back(id.get<uint32_t>());
    }
  } else {
    unsupported(r.source, path, "post-processor '" + type + "'");
  }
}

std::pair<std::string, std::string> merge_parts(const json& m, const Reader& r, const std::string& path) {
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) return {m[0], m[1]};
  if (m.is_string()) {
    const std::string s = m.get<std::string>();
    const size_t space = s.find(' ');
    if (space != std::string::npos && s.find(' ', space + 1) == std::string::npos)
      return {s.substr(0, space), s.substr(space + 1)};
  }
  malformed(r.source, path, "expected \"a b\" or [\"a\", \"b\"]");
}

void read_model(const json& tok, const Reader& r, TokenizerSpec& spec) {
  if (!tok.contains("model") || !tok["model"].is_object()) malformed(r.source, "/model", "expected an object");
  const json& m = tok["model"];
  const std::string type = m.contains("type") ? r.string(m, "type", "", "/model") : "BPE";
  if (type != "BPE") unsupported(r.source, "/model/type", "tokenizer model '" + type + "' (BPE is)");
  if (m.contains("dropout") && !m["dropout"].is_null() && m["dropout"].get<double>() != 0.0)
    unsupported(r.source, "/model/dropout", "BPE dropout");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (!r.string(m, key, "", "/model").empty()) unsupported(r.source, std::string("/model/") + key, key);
  if (!m.contains("vocab") || !m["vocab"].is_object()) malformed(r.source, "/model/vocab", "expected an object");
  size_t size = 0;
  for (const auto& [text, id] : m["vocab"].items()) {
    if (!is_id(id)) malformed(r.source, "/model/vocab/" + text, "expected a token id");
    size = std::max<size_t>(size, id.get<uint64_t>() + 1);
  }
  if (tok.contains("added_tokens") && tok["added_tokens"].is_array())
    for (const auto& t : tok["added_tokens"])
      if (t.is_object() && t.contains("id") && is_id(t["id"])) size = std::max<size_t>(size, t["id"].get<uint64_t>() + 1);
  spec.tokens.assign(size, "");
  spec.types.assign(size, TokenType::Normal);
  for (const auto& [text, id] : m["vocab"].items()) spec.tokens[id.get<uint32_t>()] = text;
  const bool byte_fallback = r.boolean(m, "byte_fallback", false, "/model");
  spec.unknown_char = byte_fallback ? UnknownChar::ByteFallback : UnknownChar::Unk;
  spec.fuse_unk = r.boolean(m, "fuse_unk", false, "/model");
  spec.ignore_merges = r.boolean(m, "ignore_merges", false, "/model");
  if (const std::string unk = r.string(m, "unk_token", "", "/model"); !unk.empty()) {
    if (!m["vocab"].contains(unk)) malformed(r.source, "/model/unk_token", "'" + unk + "' is not in the vocabulary");
    spec.unk_id = m["vocab"][unk].get<uint32_t>();
  }
  if (byte_fallback)
    for (size_t id = 0; id < size; ++id) {
      const std::string& t = spec.tokens[id];
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') spec.types[id] = TokenType::Byte;
    }
  if (!m.contains("merges")) return;
  const json& merges = r.array(m, "merges", "/model");
  spec.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    if (merges[i].is_string() && merges[i].get_ref<const std::string&>().rfind("#version", 0) == 0) continue;
    const std::string path = "/model/merges/" + std::to_string(i);
    const auto [a, b] = merge_parts(merges[i], r, path);
    if (!m["vocab"].contains(a) || !m["vocab"].contains(b)) malformed(r.source, path, "merge of a token not in the vocabulary");
    spec.merges.emplace_back(m["vocab"][a].get<uint32_t>(), m["vocab"][b].get<uint32_t>());
  }
}

void read_added_tokens(const json& tok, const Reader& r, TokenizerSpec& spec) {
  if (!tok.contains("added_tokens") || tok["added_tokens"].is_null()) return;
  const json& list = r.array(tok, "added_tokens", "");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = "/added_tokens/" + std::to_string(i);
    const json& t = list[i];
    if (!t.is_object() || !t.contains("id") || !is_id(t["id"]) || !t.contains("content") || !t["content"].is_string())
      malformed(r.source, path, "expected an object with id and content");
    AddedToken a;
    a.id = t["id"].get<uint32_t>();
    a.content = t["content"].get<std::string>();
    a.special = r.boolean(t, "special", false, path);
    a.lstrip = r.boolean(t, "lstrip", false, path);
    a.rstrip = r.boolean(t, "rstrip", false, path);
    a.single_word = r.boolean(t, "single_word", false, path);
    a.normalized = r.boolean(t, "normalized", !a.special, path);
    if (spec.tokens[a.id].empty()) spec.tokens[a.id] = a.content;
    spec.types[a.id] = a.special ? TokenType::Control : TokenType::UserDefined;
    spec.added_tokens.push_back(std::move(a));
  }
}

// The text of a special token in tokenizer_config.json: "x" or {"content": "x"}.
std::string config_token(const json& cfg, const char* key) {
  if (!cfg.contains(key)) return {};
  const json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return {};
}

std::optional<uint32_t> id_of(const TokenizerSpec& spec, const std::string& text) {
  if (text.empty()) return std::nullopt;
  for (const AddedToken& t : spec.added_tokens)
    if (t.content == text) return t.id;
  for (uint32_t id = 0; id < spec.tokens.size(); ++id)
    if (spec.tokens[id] == text) return id;
  return std::nullopt;
}

// Which ids encode(add_special) puts around the text. transformers' Llama and
// Gemma tokenizers rebuild the template from add_bos_token / add_eos_token;
// other classes use the file's post-processor, and the flags only when there is none.
void read_special_ids(const json& cfg, const Template& tpl, TokenizerSpec& spec) {
  spec.bos_id = id_of(spec, config_token(cfg, "bos_token"));
  spec.eos_id = id_of(spec, config_token(cfg, "eos_token"));
  spec.pad_id = id_of(spec, config_token(cfg, "pad_token"));
  if (!spec.unk_id) spec.unk_id = id_of(spec, config_token(cfg, "unk_token"));
  static const std::set<std::string> kFlagClasses = {"LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer",
                                                     "CodeLlamaTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast"};
  const bool has_flags = cfg.contains("add_bos_token") || cfg.contains("add_eos_token");
  const bool flags_rule = has_flags && (!tpl.present || kFlagClasses.count(cfg.value("tokenizer_class", "")));
  if (tpl.present && !flags_rule) {
    spec.prefix_ids = tpl.prefix;
    spec.suffix_ids = tpl.suffix;
  } else if (flags_rule) {
    if (cfg.value("add_bos_token", false) && spec.bos_id) spec.prefix_ids = {*spec.bos_id};
    if (cfg.value("add_eos_token", false) && spec.eos_id) spec.suffix_ids = {*spec.eos_id};
  }
  spec.add_bos = spec.bos_id && !spec.prefix_ids.empty() && spec.prefix_ids.front() == *spec.bos_id;
  spec.add_eos = spec.eos_id && !spec.suffix_ids.empty() && spec.suffix_ids.back() == *spec.eos_id;
}

}  // namespace

nlohmann::json read_tokenizer_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error("io.open", {path.string(), {}, {}}, "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    throw bad_input("tokenizer.201", {path.string(), {}, {}}, std::string("not valid JSON: ") + e.what());
  }
}

std::vector<PreTokenizerStep> pre_tokenizer_from_hf(const nlohmann::json& pre, const std::string& source,
                                                    const std::string& path) {
  std::vector<PreTokenizerStep> steps;
  read_pre_tokenizer(pre, Reader{source}, path, steps);
  return steps;
}

std::vector<NormalizerStep> normalizer_from_hf(const nlohmann::json& normalizer, const std::string& source,
                                               const std::string& path) {
  std::vector<NormalizerStep> steps;
  read_normalizer(normalizer, Reader{source}, path, steps);
  return steps;
}

TokenizerSpec tokenizer_spec_from_hf(const nlohmann::json& tok, const nlohmann::json& cfg, const std::string& source) {
  const Reader r{source};
  if (!tok.is_object()) malformed(source, "", "expected a JSON object");
  TokenizerSpec spec;
  spec.source = source;
  spec.origin = "tokenizer.json";
  spec.merge_rule = MergeRule::Ranks;
  spec.added_search = AddedTokenSearch::LeftmostLongest;
  read_model(tok, r, spec);
  read_added_tokens(tok, r, spec);
  if (tok.contains("normalizer")) read_normalizer(tok["normalizer"], r, "/normalizer", spec.normalizer);
  if (tok.contains("pre_tokenizer")) read_pre_tokenizer(tok["pre_tokenizer"], r, "/pre_tokenizer", spec.pre_tokenizer);
  bool fused = false;
  if (tok.contains("decoder")) read_decoder(tok["decoder"], r, "/decoder", spec.decode, fused);
  spec.decode.added_tokens_through_decoder = true;
  Template tpl;
  if (tok.contains("post_processor")) read_post_processor(tok["post_processor"], r, "/post_processor", tpl);
  read_special_ids(cfg.is_object() ? cfg : json::object(), tpl, spec);
  for (const uint32_t id : spec.prefix_ids)
    if (id >= spec.tokens.size()) malformed(source, "/post_processor", "token id " + std::to_string(id) + " is not in the vocabulary");
  for (const uint32_t id : spec.suffix_ids)
    if (id >= spec.tokens.size()) malformed(source, "/post_processor", "token id " + std::to_string(id) + " is not in the vocabulary");
  return spec;
}

}  // namespace supra
