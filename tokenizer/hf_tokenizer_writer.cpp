#include "tokenizer/hf_tokenizer_writer.hpp"

#include <algorithm>
#include <unordered_map>

#include "tokenizer/gguf_tokenizer_reader.hpp"
#include "tokenizer/pretokenizer_presets.hpp"
#include "tokenizer/utf8.hpp"

namespace supra {
namespace {

using ojson = nlohmann::ordered_json;
constexpr const char* kMetaspace = "\xE2\x96\x81";

bool in_vocabulary(const TokenizerSpec& spec, uint32_t id) {
  return !spec.tokens[id].empty() && spec.types[id] != TokenType::Unused;
}

ojson merge_json(const std::string& a, const std::string& b) {
  // "a b" is ambiguous when a part holds a space: those go as a pair.
  if (a.find(' ') != std::string::npos || b.find(' ') != std::string::npos) return ojson::array({a, b});
  return a + " " + b;
}

ojson model_json(const TokenizerSpec& spec, bool sentencepiece) {
  ojson vocab = ojson::object();
  for (uint32_t id = 0; id < spec.tokens.size(); ++id)
    if (in_vocabulary(spec, id)) vocab[spec.tokens[id]] = id;
  ojson merges = ojson::array();
  for (const auto& [a, b] : sentencepiece ? merges_from_scores(spec) : spec.merges)
    merges.push_back(merge_json(spec.tokens[a], spec.tokens[b]));
  ojson m;
  m["type"] = "BPE";
  m["dropout"] = nullptr;
  m["unk_token"] = spec.unk_id ? ojson(spec.tokens[*spec.unk_id]) : ojson(nullptr);
  m["continuing_subword_prefix"] = nullptr;
  m["end_of_word_suffix"] = nullptr;
  m["fuse_unk"] = sentencepiece;
  m["byte_fallback"] = sentencepiece;
  m["ignore_merges"] = spec.ignore_merges;
  m["vocab"] = std::move(vocab);
  m["merges"] = std::move(merges);
  return m;
}

ojson byte_level_json(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

ojson pre_tokenizer_json(const TokenizerSpec& spec) {
  const PreTokenizerPreset* preset = find_pre_tokenizer_preset(spec.gguf_pre);
  if (!preset || preset->hf_regexes.empty()) return byte_level_json(true);
  ojson steps = ojson::array();
  for (const std::string& re : preset->hf_regexes)
    steps.push_back({{"type", "Split"}, {"pattern", {{"Regex", re}}}, {"behavior", "Isolated"}, {"invert", false}});
  steps.push_back(byte_level_json(false));
  return {{"type", "Sequence"}, {"pretokenizers", steps}};
}

ojson post_processor_json(const TokenizerSpec& spec) {
  std::vector<uint32_t> prefix, suffix;
  if (spec.add_bos && spec.bos_id) prefix.push_back(*spec.bos_id);
  if (spec.add_eos && spec.eos_id) suffix.push_back(*spec.eos_id);
  if (prefix.empty() && suffix.empty()) return nullptr;
  auto special = [&](uint32_t id) { return ojson{{"SpecialToken", {{"id", spec.tokens[id]}, {"type_id", 0}}}}; };
  auto sequence = [](const char* name) { return ojson{{"Sequence", {{"id", name}, {"type_id", 0}}}}; };
  ojson single = ojson::array(), pair = ojson::array(), specials = ojson::object();
  for (const uint32_t id : prefix) single.push_back(special(id));
  single.push_back(sequence("A"));
  for (const uint32_t id : suffix) single.push_back(special(id));
  pair = single;
  for (const uint32_t id : prefix) pair.push_back(special(id));
  pair.push_back(sequence("B"));
  for (const uint32_t id : suffix) pair.push_back(special(id));
  for (const uint32_t id : prefix) specials[spec.tokens[id]] = {{"id", spec.tokens[id]}, {"ids", {id}}, {"tokens", {spec.tokens[id]}}};
  for (const uint32_t id : suffix) specials[spec.tokens[id]] = {{"id", spec.tokens[id]}, {"ids", {id}}, {"tokens", {spec.tokens[id]}}};
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

}  // namespace

std::vector<std::pair<uint32_t, uint32_t>> merges_from_scores(const TokenizerSpec& spec) {
  std::unordered_map<std::string, uint32_t> index;
  for (uint32_t id = 0; id < spec.tokens.size(); ++id)
    if (spec.types[id] == TokenType::Normal && !spec.tokens[id].empty()) index[spec.tokens[id]] = id;
  struct Merge {
    float score;
    uint32_t merged, left, right;
  };
  std::vector<Merge> merges;
  for (const auto& [text, id] : index) {
    size_t cut = utf8_sequence_length(static_cast<unsigned char>(text[0]));
    for (; cut > 0 && cut < text.size(); cut += std::max<size_t>(1, utf8_sequence_length(static_cast<unsigned char>(text[cut])))) {
      auto l = index.find(text.substr(0, cut)), r = index.find(text.substr(cut));
      if (l != index.end() && r != index.end()) merges.push_back({spec.scores[id], id, l->second, r->second});
    }
  }
  std::sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.merged != b.merged) return a.merged < b.merged;
    return a.left != b.left ? a.left < b.left : a.right < b.right;
  });
  std::vector<std::pair<uint32_t, uint32_t>> out;
  out.reserve(merges.size());
  for (const Merge& m : merges) out.emplace_back(m.left, m.right);
  return out;
}

ojson hf_tokenizer_json_from_spec(const TokenizerSpec& spec) {
  const bool sentencepiece = spec.merge_rule == MergeRule::Scores;
  ojson added = ojson::array();
  for (const AddedToken& t : spec.added_tokens)
    added.push_back({{"id", t.id}, {"content", t.content}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", t.special}});
  ojson j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = std::move(added);
  if (sentencepiece) {
    ojson steps = ojson::array();
    if (spec.add_space_prefix) steps.push_back({{"type", "Prepend"}, {"prepend", kMetaspace}});
    steps.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kMetaspace}});
    j["normalizer"] = {{"type", "Sequence"}, {"normalizers", steps}};
    j["pre_tokenizer"] = nullptr;
  } else {
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = pre_tokenizer_json(spec);
  }
  j["post_processor"] = post_processor_json(spec);
  if (sentencepiece) {
    ojson steps = ojson::array({{{"type", "Replace"}, {"pattern", {{"String", kMetaspace}}}, {"content", " "}},
                                {{"type", "ByteFallback"}},
                                {{"type", "Fuse"}}});
    if (spec.add_space_prefix) steps.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    j["decoder"] = {{"type", "Sequence"}, {"decoders", steps}};
  } else {
    j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  }
  j["model"] = model_json(spec, sentencepiece);
  return j;
}

ojson hf_tokenizer_config_from_spec(const TokenizerSpec& spec) {
  ojson c;
  c["add_bos_token"] = spec.add_bos;
  c["add_eos_token"] = spec.add_eos;
  auto name = [&](const char* key, const std::optional<uint32_t>& id) {
    if (id && *id < spec.tokens.size()) c[key] = spec.tokens[*id];
  };
  name("bos_token", spec.bos_id);
  name("eos_token", spec.eos_id);
  name("unk_token", spec.unk_id);
  name("pad_token", spec.pad_id);
  c["clean_up_tokenization_spaces"] = false;
  c["tokenizer_class"] = "PreTrainedTokenizerFast";
  return c;
}

std::vector<std::pair<std::string, std::string>> hf_tokenizer_files_from_gguf(const ojson& kvs, const std::string& source) {
  if (!gguf_has_tokenizer(kvs)) return {};
  TokenizerSpec spec = tokenizer_spec_from_gguf(kvs, source);
  if (!spec.file_tokens.empty()) {  // write the strings as the GGUF stores them
    for (AddedToken& t : spec.added_tokens) t.content = spec.file_tokens[t.id];
    spec.tokens = std::move(spec.file_tokens);
    spec.file_tokens.clear();
  }
  return {{"tokenizer.json", hf_tokenizer_json_from_spec(spec).dump(2) + "\n"},
          {"tokenizer_config.json", hf_tokenizer_config_from_spec(spec).dump(2) + "\n"}};
}

}  // namespace supra
