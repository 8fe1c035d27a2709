#include "schema/model_spec.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "schema/error.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxDim = uint64_t(1) << 40;  // far above any real model, far below overflow

// A non-negative integer field; `fallback` when absent or null.
std::optional<uint64_t> get_count(const json& j, const char* key, const std::string& source) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  const json& v = j.at(key);
  if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
    const uint64_t n = v.get<uint64_t>();
    if (n > kMaxDim) throw bad_input("spec.101", {source, {}, {}}, std::string("'") + key + "' is implausibly large");
    return n;
  }
  if (v.is_number_float() && v.get<double>() >= 0 && v.get<double>() == std::floor(v.get<double>()) &&
      v.get<double>() <= double(kMaxDim))
    return uint64_t(v.get<double>());
  throw bad_input("spec.101", {source, {}, {}}, std::string("'") + key + "' must be a non-negative integer");
}

uint64_t require_count(const json& j, const char* key, const std::string& source) {
  auto v = get_count(j, key, source);
  if (!v) throw bad_input("spec.101", {source, {}, {}}, std::string("missing '") + key + "'");
  return *v;
}

std::optional<double> get_real(const json& j, const char* key, const std::string& source) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  if (!j.at(key).is_number() || !std::isfinite(j.at(key).get<double>()))
    throw bad_input("spec.101", {source, {}, {}}, std::string("'") + key + "' must be a finite number");
  return j.at(key).get<double>();
}

std::optional<bool> get_bool(const json& j, const char* key, const std::string& source) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  if (!j.at(key).is_boolean()) throw bad_input("spec.101", {source, {}, {}}, std::string("'") + key + "' must be true or false");
  return j.at(key).get<bool>();
}

std::string get_string(const json& j, const char* key, const std::string& source) {
  if (!j.contains(key) || j.at(key).is_null()) return {};
  if (!j.at(key).is_string()) throw bad_input("spec.101", {source, {}, {}}, std::string("'") + key + "' must be a string");
  return j.at(key).get<std::string>();
}

void require_object(const json& j, const std::string& source) {
  if (!j.is_object()) throw bad_input("spec.101", {source, {}, {}}, "model config is not a JSON object");
}

}  // namespace

uint64_t ModelSpec::rotary_dim() const {
  if (positions != PositionKind::Rope) return 0;
  const auto d = uint64_t(double(head_dim) * rotary_pct);
  return d - d % 2;
}

uint64_t ModelSpec::symbol(const std::string& s) const {
  if (s == "hidden") return hidden;
  if (s == "q_dim") return q_dim();
  if (s == "kv_dim") return kv_dim();
  if (s == "ffn") return ffn;
  if (s == "vocab") return vocab;
  if (s == "context") return context_length;
  if (s == "head_dim_half") return head_dim / 2;
  throw std::invalid_argument("unknown shape symbol " + s);
}

void ModelSpec::check(const std::string& source) const {
  auto bad = [&](const std::string& detail) { return bad_input("spec.102", {source, {}, {}}, detail); };
  if (hidden == 0 || layers == 0 || heads == 0 || kv_heads == 0 || head_dim == 0)
    throw bad("hidden size, layers, heads, kv heads and head dim must all be positive");
  if (hidden > kMaxDim || layers > 100000 || heads > 65536 || kv_heads > heads || head_dim > 65536 || ffn > kMaxDim ||
      vocab > kMaxDim)
    throw bad("a dimension is out of range (kv heads must not exceed heads)");
  if (heads % kv_heads != 0)
    throw bad(std::to_string(heads) + " heads are not a multiple of " + std::to_string(kv_heads) + " kv heads");
  if (rope_layout != RopeLayout::None && head_dim % 2 != 0) throw bad("RoPE needs an even head dim");
  find_architecture(architecture);  // known table
}

ModelSpec spec_from_hf_config(const json& c, const std::string& source) {
  require_object(c, source);
  ModelSpec s;
  const std::string model_type = get_string(c, "model_type", source);
  const Architecture* arch = architecture_for_model_type(model_type);
  if (!arch) throw bad_input("spec.103", {source, {}, {}}, "model_type '" + model_type + "' has no architecture table");
  s.architecture = arch->name;
  s.hf_model_type = model_type;
  if (arch->name == "gpt2") {
    s.hidden = require_count(c, "n_embd", source);
    s.layers = require_count(c, "n_layer", source);
    s.heads = require_count(c, "n_head", source);
    s.kv_heads = s.heads;
    s.ffn = get_count(c, "n_inner", source).value_or(4 * s.hidden);
    s.context_length = get_count(c, "n_positions", source).value_or(1024);
    s.norm = NormKind::LayerNorm;
    s.norm_eps = get_real(c, "layer_norm_epsilon", source).value_or(1e-5);
    s.rope_layout = RopeLayout::None;
    s.tied_embeddings = get_bool(c, "tie_word_embeddings", source).value_or(true);
  } else {
    s.hidden = require_count(c, "hidden_size", source);
    s.layers = require_count(c, "num_hidden_layers", source);
    s.heads = require_count(c, "num_attention_heads", source);
    s.kv_heads = get_count(c, "num_key_value_heads", source).value_or(s.heads);
    s.ffn = require_count(c, "intermediate_size", source);
    s.context_length = get_count(c, "max_position_embeddings", source).value_or(0);
    s.tied_embeddings = get_bool(c, "tie_word_embeddings", source).value_or(false);
    s.rope_layout = RopeLayout::RotateHalf;
    if (arch->name == "gpt_neox") {
      s.norm = NormKind::LayerNorm;
      s.norm_eps = get_real(c, "layer_norm_eps", source).value_or(1e-5);
      s.rope_theta = get_real(c, "rotary_emb_base", source).value_or(10000.0);
      s.rotary_pct = get_real(c, "rotary_pct", source).value_or(0.25);
    } else {
      s.norm = NormKind::RmsNorm;
      s.norm_eps = get_real(c, "rms_norm_eps", source).value_or(1e-6);
      s.rope_theta = get_real(c, "rope_theta", source).value_or(10000.0);
    }
  }
  s.vocab = require_count(c, "vocab_size", source);
  if (s.heads == 0) throw bad_input("spec.102", {source, {}, {}}, "zero attention heads");
  s.head_dim = get_count(c, "head_dim", source).value_or(s.hidden / s.heads);
  s.check(source);
  return s;
}

ModelSpec spec_from_meta_params(const json& p, uint64_t vocab_rows, const std::string& source) {
  require_object(p, source);
  ModelSpec s;
  s.architecture = "llama";
  s.hidden = require_count(p, "dim", source);
  s.layers = require_count(p, "n_layers", source);
  s.heads = require_count(p, "n_heads", source);
  s.kv_heads = get_count(p, "n_kv_heads", source).value_or(s.heads);
  if (s.heads == 0) throw bad_input("spec.102", {source, {}, {}}, "zero attention heads");
  s.head_dim = s.hidden / s.heads;
  // Meta's vocab_size is -1 in Llama 1/2 params.json: take the embedding rows.
  const json vocab = p.contains("vocab_size") ? p.at("vocab_size") : json();
  s.vocab = vocab.is_number_integer() && vocab.get<int64_t>() > 0 ? require_count(p, "vocab_size", source) : vocab_rows;
  // FFN width as Meta's model code computes it (formats.md §4.2).
  const uint64_t multiple_of = get_count(p, "multiple_of", source).value_or(256);
  if (multiple_of == 0) throw bad_input("spec.102", {source, {}, {}}, "multiple_of is 0");
  uint64_t ffn = 2 * (4 * s.hidden) / 3;
  if (auto m = get_real(p, "ffn_dim_multiplier", source)) {
    // Converting a double outside uint64's range is undefined: refuse first
    // (no FFN is 2^40 wide).
    const double scaled = *m * double(ffn);
    if (!(scaled >= 1) || scaled >= 0x1p40)
      throw bad_input("spec.102", {source, {}, {}}, "ffn_dim_multiplier " + std::to_string(*m) + " gives no valid FFN width");
    ffn = uint64_t(scaled);
  }
  s.ffn = multiple_of * ((ffn + multiple_of - 1) / multiple_of);
  s.norm = NormKind::RmsNorm;
  s.norm_eps = get_real(p, "norm_eps", source).value_or(1e-5);
  s.rope_theta = get_real(p, "rope_theta", source).value_or(10000.0);
  s.rope_layout = RopeLayout::Interleaved;
  s.context_length = get_count(p, "max_seq_len", source).value_or(0);
  s.tied_embeddings = false;
  s.check(source);
  return s;
}

ModelSpec spec_from_open_lm_config(const json& c, const std::string& source) {
  require_object(c, source);
  ModelSpec s;
  s.architecture = "llama";
  s.hidden = c.contains("hidden_dim") ? require_count(c, "hidden_dim", source) : require_count(c, "dim", source);
  s.layers = require_count(c, "n_layers", source);
  s.heads = require_count(c, "n_heads", source);
  s.kv_heads = get_count(c, "n_heads_kv", source).value_or(s.heads);
  if (s.heads == 0) throw bad_input("spec.102", {source, {}, {}}, "zero attention heads");
  s.head_dim = s.hidden / s.heads;  // in_proj uses dim // n_heads (qk_head_dim is the feature map's width)
  s.vocab = require_count(c, "vocab_size", source);
  s.context_length = get_count(c, "seq_len", source).value_or(2048);
  // open_lm's default SwiGLU width: 256 * ceil((2 * 4 * E / 3) / 256).
  s.ffn = get_count(c, "intermediate_dim_ffn", source).value_or(256 * ((2 * 4 * s.hidden / 3 + 255) / 256));
  const std::string norm = get_string(c, "model_norm", source);
  s.norm = norm == "rms_norm" ? NormKind::RmsNorm : NormKind::LayerNorm;
  s.norm_eps = 1e-5;  // Params.norm_eps, not settable from the JSON
  const std::string pos = get_string(c, "positional_embedding_type", source);
  if (pos.empty() || pos == "rotary") s.rope_layout = RopeLayout::RotateHalf;
  else if (pos == "llama_rotary") s.rope_layout = RopeLayout::Interleaved;
  else throw bad_input("spec.103", {source, {}, {}}, "positional_embedding_type '" + pos + "' is not supported");
  s.rope_theta = get_real(c, "rotary_base_frequency", source).value_or(10000.0);
  s.tied_embeddings = get_bool(c, "weight_tying", source).value_or(false);
  s.check(source);
  return s;
}


ModelSpec spec_from_gguf_metadata(const nlohmann::ordered_json& kvs, const std::string& source) {
  if (!kvs.is_array()) throw bad_input("spec.104", {source, {}, {}}, "GGUF metadata is not a key/value array");
  for (size_t i = 0; i < kvs.size(); ++i)
    if (!kvs[i].is_object() || !kvs[i].contains("key") || !kvs[i]["key"].is_string() || !kvs[i].contains("value"))
      throw bad_input("spec.104", {source, {}, {}}, "GGUF metadata entry " + std::to_string(i) + " has no key/value");
  // Flatten into a plain object so the JSON field readers above apply.
  json flat = json::object();
  for (const auto& kv : kvs) flat[kv["key"].get<std::string>()] = kv["value"];
  const std::string arch = get_string(flat, "general.architecture", source);
  if (arch.empty()) throw bad_input("spec.104", {source, {}, {}}, "no general.architecture");
  ModelSpec s;
  if (arch == "llama") {
    s.architecture = "llama";
    s.rope_layout = RopeLayout::Interleaved;  // ggml ROPE_TYPE_NORM
  } else if (arch == "qwen2") {
    s.architecture = "qwen2";
    s.rope_layout = RopeLayout::RotateHalf;  // ggml ROPE_TYPE_NEOX
  } else {
    throw bad_input("spec.103", {source, {}, {}}, "GGUF architecture '" + arch + "' has no layout table");
  }
  auto key = [&](const std::string& k) { return arch + "." + k; };
  auto count = [&](const std::string& k) { return get_count(flat, key(k).c_str(), source); };
  auto need = [&](const std::string& k) { return require_count(flat, key(k).c_str(), source); };
  s.hidden = need("embedding_length");
  s.layers = need("block_count");
  s.heads = need("attention.head_count");
  s.kv_heads = count("attention.head_count_kv").value_or(s.heads);
  s.ffn = need("feed_forward_length");
  s.context_length = count("context_length").value_or(0);
  if (s.heads == 0) throw bad_input("spec.102", {source, {}, {}}, "zero attention heads");
  s.head_dim = count("attention.key_length").value_or(count("rope.dimension_count").value_or(s.hidden / s.heads));
  s.norm = NormKind::RmsNorm;
  // GGUF stores these as f32: take the shortest decimal that is the same
  // f32 (1e-05, not 9.999999747378752e-06), as the config that was converted said.
  auto shortest_f32 = [](double v) { return std::stod(fmt::format("{}", float(v))); };
  s.norm_eps = shortest_f32(get_real(flat, key("attention.layer_norm_rms_epsilon").c_str(), source).value_or(1e-5));
  s.rope_theta = shortest_f32(get_real(flat, key("rope.freq_base").c_str(), source).value_or(10000.0));
  if (auto v = count("vocab_size")) s.vocab = *v;
  else if (flat.contains("tokenizer.ggml.tokens") && flat["tokenizer.ggml.tokens"].is_array()) s.vocab = flat["tokenizer.ggml.tokens"].size();
  s.check(source);
  return s;
}

nlohmann::ordered_json hf_config_from_spec(const ModelSpec& s, const std::string& torch_dtype) {
  nlohmann::ordered_json j;
  const std::string type = s.hf_model_type.empty() ? s.architecture : s.hf_model_type;
  if (s.architecture == "gpt2") {
    j["architectures"] = {"GPT2LMHeadModel"};
    j["model_type"] = "gpt2";
    j["n_embd"] = s.hidden;
    j["n_layer"] = s.layers;
    j["n_head"] = s.heads;
    j["n_inner"] = s.ffn;
    j["n_positions"] = s.context_length;
    j["layer_norm_epsilon"] = s.norm_eps;
    j["vocab_size"] = s.vocab;
    j["tie_word_embeddings"] = s.tied_embeddings;
  } else {
    const char* cls = type == "mistral" ? "MistralForCausalLM"
                      : type == "qwen2" ? "Qwen2ForCausalLM"
                      : type == "gpt_neox" ? "GPTNeoXForCausalLM"
                                           : "LlamaForCausalLM";
    j["architectures"] = {cls};
    j["model_type"] = type;
    j["vocab_size"] = s.vocab;
    j["hidden_size"] = s.hidden;
    j["intermediate_size"] = s.ffn;
    j["num_hidden_layers"] = s.layers;
    j["num_attention_heads"] = s.heads;
    if (s.architecture == "gpt_neox") {
      j["hidden_act"] = "gelu";
      j["layer_norm_eps"] = s.norm_eps;
      j["rotary_pct"] = s.rotary_pct;
      j["rotary_emb_base"] = s.rope_theta;
    } else {
      j["num_key_value_heads"] = s.kv_heads;
      if (s.head_dim * s.heads != s.hidden) j["head_dim"] = s.head_dim;
      j["hidden_act"] = "silu";
      j["rms_norm_eps"] = s.norm_eps;
      j["rope_theta"] = s.rope_theta;
    }
    j["max_position_embeddings"] = s.context_length ? s.context_length : 2048;
    j["tie_word_embeddings"] = s.tied_embeddings;
  }
  if (!torch_dtype.empty()) j["torch_dtype"] = torch_dtype;
  return j;
}

nlohmann::ordered_json open_lm_config_from_spec(const ModelSpec& s) {
  nlohmann::ordered_json j;
  j["hidden_dim"] = s.hidden;
  j["n_layers"] = s.layers;
  j["n_heads"] = s.heads;
  j["n_heads_kv"] = s.kv_heads;
  j["intermediate_dim_ffn"] = s.ffn;
  j["seq_len"] = s.context_length ? s.context_length : 2048;
  j["vocab_size"] = s.vocab;
  j["post_embed_norm"] = false;
  j["weight_tying"] = s.tied_embeddings;
  j["model_norm"] = s.norm == NormKind::RmsNorm ? "rms_norm" : "default_layer_norm";
  j["positional_embedding_type"] = s.rope_layout == RopeLayout::Interleaved ? "llama_rotary" : "rotary";
  j["rotary_base_frequency"] = s.rope_theta;
  j["ffn_type"] = "swiglu";
  return j;
}

nlohmann::ordered_json meta_params_from_spec(const ModelSpec& s) {
  nlohmann::ordered_json j;
  j["dim"] = s.hidden;
  j["n_layers"] = s.layers;
  j["n_heads"] = s.heads;
  j["n_kv_heads"] = s.kv_heads;
  j["vocab_size"] = s.vocab;
  // Meta: ffn = multiple_of * ceil(int(m * int(8 * dim / 3)) / multiple_of). With
  // multiple_of = ffn any product in (0, ffn] rounds up to ffn exactly.
  const uint64_t base = 2 * (4 * s.hidden) / 3;
  j["multiple_of"] = s.ffn;
  if (base > s.ffn) j["ffn_dim_multiplier"] = (double(s.ffn) - 0.5) / double(base);
  j["norm_eps"] = s.norm_eps;
  j["rope_theta"] = s.rope_theta;
  if (s.context_length) j["max_seq_len"] = s.context_length;
  return j;
}

}  // namespace supra
