#include "schema/model_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "schema/error.hpp"
#include "schema/spec_fields.hpp"
#include "schema/supra_config.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

// Field readers for the configs whose keys are fixed by their format (Meta
// params.json, open_lm, GGUF); HF configs go through the tables (hf_config.cpp).
std::optional<uint64_t> get_count(const json& j, const std::string& key, const std::string& source) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  return count_from_json(j.at(key), key, source);
}

uint64_t require_count(const json& j, const std::string& key, const std::string& source) {
  auto v = get_count(j, key, source);
  if (!v) throw bad_input("spec.101", {source, {}, {}}, "missing '" + key + "'");
  return *v;
}

std::optional<double> get_real(const json& j, const std::string& key, const std::string& source) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  return real_from_json(j.at(key), key, source);
}

std::optional<bool> get_bool(const json& j, const std::string& key, const std::string& source) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  if (!j.at(key).is_boolean()) throw bad_input("spec.101", {source, {}, {}}, "'" + key + "' must be true or false");
  return j.at(key).get<bool>();
}

std::string get_string(const json& j, const std::string& key, const std::string& source) {
  if (!j.contains(key) || j.at(key).is_null()) return {};
  if (!j.at(key).is_string()) throw bad_input("spec.101", {source, {}, {}}, "'" + key + "' must be a string");
  return j.at(key).get<std::string>();
}

void require_object(const json& j, const std::string& source) {
  if (!j.is_object()) throw bad_input("spec.101", {source, {}, {}}, "model config is not a JSON object");
}

// Meta's Llama 3.1 reference model (llama-models, models/llama3/model.py,
// apply_scaling) hard-codes these when params.json says use_scaled_rope.
RopeScaling meta_scaled_rope() {
  RopeScaling r;
  r.kind = RopeScalingKind::Llama3;
  r.factor = 8.0;
  r.low_freq_factor = 1.0;
  r.high_freq_factor = 4.0;
  r.original_max_position_embeddings = 8192;
  return r;
}

bool same_scaling(const RopeScaling& a, const RopeScaling& b) {
  return a.kind == b.kind && a.factor == b.factor && a.low_freq_factor == b.low_freq_factor &&
         a.high_freq_factor == b.high_freq_factor && a.original_max_position_embeddings == b.original_max_position_embeddings;
}

// Meta and open_lm configs describe the Llama block only: refuse anything else
// rather than write a config of another model.
void require_llama_block(const ModelSpec& s, const std::string& target) {
  auto refuse = [&](const std::string& what) {
    return bad_input("spec.106", {}, target + " cannot state " + what + " (architecture '" + s.architecture + "')");
  };
  if (s.ffn_kind != FfnKind::SwiGLU) throw refuse("a non-SwiGLU MLP");
  if (s.positions != PositionKind::Rope || s.rotary_pct != 1.0) throw refuse("positions other than full RoPE");
  if (s.parallel_residual) throw refuse("a parallel residual");
  if (s.attn_qkv_bias || s.attn_out_bias || s.mlp_bias) throw refuse("projection biases");
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
  if (s == "feature_q") return supra ? heads * supra->qk_dim : 0;
  if (s == "feature_k") return supra ? kv_heads * supra->qk_dim : 0;
  throw std::invalid_argument("unknown shape symbol " + s);
}

void ModelSpec::check(const std::string& source) const {
  auto bad = [&](const std::string& detail) { return bad_input("spec.102", {source, {}, {}}, detail); };
  if (hidden == 0 || layers == 0 || heads == 0 || kv_heads == 0 || head_dim == 0)
    throw bad("hidden size, layers, heads, kv heads and head dim must all be positive");
  if (hidden > (uint64_t(1) << 40) || layers > 100000 || heads > 65536 || kv_heads > heads || head_dim > 65536 ||
      ffn > (uint64_t(1) << 40) || vocab > (uint64_t(1) << 40))
    throw bad("a dimension is out of range (kv heads must not exceed heads)");
  if (heads % kv_heads != 0)
    throw bad(std::to_string(heads) + " heads are not a multiple of " + std::to_string(kv_heads) + " kv heads");
  if (!(norm_eps >= 0)) throw bad("norm eps must not be negative");
  if (positions == PositionKind::Rope) {
    if (head_dim % 2 != 0) throw bad("RoPE needs an even head dim");
    if (!(rotary_pct > 0 && rotary_pct <= 1)) throw bad("rotary_pct must be in (0, 1]");
    if (!(rope_theta > 0)) throw bad("rope theta must be positive");
  } else {
    if (rope_layout != RopeLayout::None) throw bad("learned positions with a RoPE row layout");
    if (rope_scaling.kind != RopeScalingKind::None) throw bad("rope_scaling without RoPE positions");
    if (context_length == 0) throw bad("learned positions need the context length (the table's rows)");
  }
  const RopeScaling& r = rope_scaling;
  if (r.kind != RopeScalingKind::None && !(r.factor > 0)) throw bad("rope_scaling factor must be positive");
  if (r.kind == RopeScalingKind::Llama3 &&
      !(r.low_freq_factor > 0 && r.high_freq_factor > r.low_freq_factor && r.original_max_position_embeddings > 0))
    throw bad("llama3 rope_scaling needs 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0");
  find_architecture(architecture);  // known table
  check_supra_spec(*this, source);
}

ModelSpec spec_with_forward_facts(const std::string& architecture) {
  const Architecture& a = find_architecture(architecture);
  ModelSpec s;
  s.architecture = a.name;
  for (const auto& [field, value] : a.forward) set_spec_field(s, field, value, field, "schema/architectures/" + a.name + ".json");
  // HF's row order; readers of other layouts override it.
  s.rope_layout = s.positions == PositionKind::Rope ? RopeLayout::RotateHalf : RopeLayout::None;
  return s;
}

ModelSpec spec_from_meta_params(const json& p, uint64_t vocab_rows, const std::string& source) {
  require_object(p, source);
  ModelSpec s = spec_with_forward_facts("llama");
  s.hidden = require_count(p, "dim", source);
  s.layers = require_count(p, "n_layers", source);
  s.heads = require_count(p, "n_heads", source);
  s.kv_heads = get_count(p, "n_kv_heads", source).value_or(s.heads);
  if (s.heads == 0) throw bad_input("spec.102", {source, {}, {}}, "zero attention heads");
  // Mistral's params.json states head_dim and hidden_dim (the FFN width); Meta's derives them.
  s.head_dim = get_count(p, "head_dim", source).value_or(s.hidden / s.heads);
  // Meta's vocab_size is -1 in Llama 1/2 params.json: take the embedding rows.
  const json vocab = p.contains("vocab_size") ? p.at("vocab_size") : json();
  s.vocab = vocab.is_number_integer() && vocab.get<int64_t>() > 0 ? require_count(p, "vocab_size", source) : vocab_rows;
  if (auto ffn = get_count(p, "hidden_dim", source)) {
    s.ffn = *ffn;
  } else {
    // FFN width as Meta's model code computes it (FeedForward in llama's model.py).
    const uint64_t multiple_of = get_count(p, "multiple_of", source).value_or(256);
    if (multiple_of == 0) throw bad_input("spec.102", {source, {}, {}}, "multiple_of is 0");
    uint64_t ffn_width = 2 * (4 * s.hidden) / 3;
    if (auto m = get_real(p, "ffn_dim_multiplier", source)) {
      // Converting a double outside uint64's range is undefined: refuse first
      // (no FFN is 2^40 wide).
      const double scaled = *m * double(ffn_width);
      if (!(scaled >= 1) || scaled >= 0x1p40)
        throw bad_input("spec.102", {source, {}, {}},
                        "ffn_dim_multiplier " + std::to_string(*m) + " gives no valid FFN width");
      ffn_width = uint64_t(scaled);
    }
    s.ffn = multiple_of * ((ffn_width + multiple_of - 1) / multiple_of);
  }
  s.norm_eps = get_real(p, "norm_eps", source).value_or(1e-5);
  s.rope_theta = get_real(p, "rope_theta", source).value_or(10000.0);
  s.rope_layout = RopeLayout::Interleaved;
  if (get_bool(p, "use_scaled_rope", source).value_or(false)) s.rope_scaling = meta_scaled_rope();
  s.sliding_window = get_count(p, "sliding_window", source).value_or(0);
  s.context_length = get_count(p, "max_seq_len", source).value_or(0);
  s.tied_embeddings = false;
  s.check(source);
  return s;
}

ModelSpec spec_from_open_lm_config(const json& c, const std::string& source) {
  require_object(c, source);
  ModelSpec s = spec_with_forward_facts("llama");
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
  const std::string ffn_type = get_string(c, "ffn_type", source);
  if (!ffn_type.empty() && ffn_type != "swiglu" && ffn_type != "swiglu_torch")
    throw bad_input("spec.105", {source, {}, {}}, "'ffn_type' = '" + ffn_type + "' is not supported (swiglu)");
  const std::string norm = get_string(c, "model_norm", source);
  s.norm = norm == "rms_norm" ? NormKind::RmsNorm : NormKind::LayerNorm;
  s.norm_eps = 1e-5;  // Params.norm_eps, not settable from the JSON
  const std::string pos = get_string(c, "positional_embedding_type", source);
  if (pos.empty() || pos == "rotary") s.rope_layout = RopeLayout::RotateHalf;
  else if (pos == "llama_rotary") s.rope_layout = RopeLayout::Interleaved;
  else throw bad_input("spec.103", {source, {}, {}}, "positional_embedding_type '" + pos + "' is not supported");
  s.rope_theta = get_real(c, "rotary_base_frequency", source).value_or(10000.0);
  s.tied_embeddings = get_bool(c, "weight_tying", source).value_or(false);
  read_supra_config(c, SupraConfigDialect::OpenLm, s, source);  // attn_name linear_attn: a SUPRA model
  s.check(source);
  return s;
}

namespace {

// The naming convention a GGUF architecture's tensors follow: it says the RoPE row order.
const Convention* gguf_convention_for(const Architecture& a) {
  for (const auto& c : all_conventions())
    if (c.layout == "gguf" && std::find(c.architectures.begin(), c.architectures.end(), a.name) != c.architectures.end())
      return &c;
  return nullptr;
}

// llama.cpp's {arch}.rope.scaling.* keys (and the older rope.scale_linear).
RopeScaling gguf_rope_scaling(const json& flat, const std::string& arch, const std::string& source) {
  RopeScaling r;
  const std::string type_key = arch + ".rope.scaling.type";
  const std::string type = get_string(flat, type_key, source);
  if (type == "linear") {
    r.kind = RopeScalingKind::Linear;
    const auto factor = get_real(flat, arch + ".rope.scaling.factor", source);
    if (!factor) throw bad_input("spec.104", {source, {}, {}}, "linear RoPE scaling without " + arch + ".rope.scaling.factor");
    r.factor = *factor;
  } else if (!type.empty() && type != "none") {
    throw bad_input("spec.105", {source, {}, {}}, "'" + type_key + "' = '" + type + "' is not supported (linear)");
  } else if (auto legacy = get_real(flat, arch + ".rope.scale_linear", source); legacy && *legacy != 1.0) {
    r.kind = RopeScalingKind::Linear;
    r.factor = *legacy;
  }
  return r;
}

}  // namespace

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
  const Architecture* table = architecture_for_gguf(arch);
  const Convention* convention = table ? gguf_convention_for(*table) : nullptr;
  if (!convention) throw bad_input("spec.103", {source, {}, {}}, "GGUF architecture '" + arch + "' has no layout table");
  ModelSpec s = spec_with_forward_facts(table->name);
  s.rope_layout = convention->rope;  // ggml ROPE_TYPE_NORM = interleaved (llama), NEOX = rotate-half (qwen2)
  auto key = [&](const std::string& k) { return arch + "." + k; };
  auto count = [&](const std::string& k) { return get_count(flat, key(k), source); };
  auto need = [&](const std::string& k) { return require_count(flat, key(k), source); };
  s.hidden = need("embedding_length");
  s.layers = need("block_count");
  s.heads = need("attention.head_count");
  s.kv_heads = count("attention.head_count_kv").value_or(s.heads);
  s.ffn = need("feed_forward_length");
  s.context_length = count("context_length").value_or(0);
  if (s.heads == 0) throw bad_input("spec.102", {source, {}, {}}, "zero attention heads");
  // llama.cpp: n_embd_head_k = key_length (default n_embd / n_head); n_rot = rope.dimension_count (default n_embd_head_k).
  s.head_dim = count("attention.key_length").value_or(s.hidden / s.heads);
  if (auto rotated = count("rope.dimension_count"); rotated && s.head_dim)
    s.rotary_pct = double(*rotated) / double(s.head_dim);
  // GGUF stores these as f32: take the shortest decimal that is the same
  // f32 (1e-05, not 9.999999747378752e-06), as the config that was converted said.
  auto shortest_f32 = [](double v) { return std::stod(fmt::format("{}", float(v))); };
  const char* eps_key = s.norm == NormKind::RmsNorm ? "attention.layer_norm_rms_epsilon" : "attention.layer_norm_epsilon";
  s.norm_eps = shortest_f32(get_real(flat, key(eps_key), source).value_or(1e-5));
  s.rope_theta = shortest_f32(get_real(flat, key("rope.freq_base"), source).value_or(10000.0));
  s.rope_scaling = gguf_rope_scaling(flat, arch, source);
  s.sliding_window = count("attention.sliding_window").value_or(0);
  if (auto v = count("vocab_size")) s.vocab = *v;
  else if (flat.contains("tokenizer.ggml.tokens") && flat["tokenizer.ggml.tokens"].is_array()) s.vocab = flat["tokenizer.ggml.tokens"].size();
  s.check(source);
  return s;
}

nlohmann::ordered_json open_lm_config_from_spec(const ModelSpec& s) {
  require_llama_block(s, "an open_lm config");
  if (s.rope_scaling.kind != RopeScalingKind::None) throw bad_input("spec.106", {}, "an open_lm config cannot state rope_scaling");
  nlohmann::ordered_json j;
  j["hidden_dim"] = s.hidden;
  j["n_layers"] = s.layers;
  j["n_heads"] = s.heads;
  j["n_heads_kv"] = s.kv_heads;
  j["intermediate_dim_ffn"] = s.ffn;
  // open_lm has no sliding window; limiting its sequences to the window keeps
  // every sequence it accepts computing exactly what the windowed model computes.
  uint64_t seq_len = s.context_length ? s.context_length : 2048;
  if (s.sliding_window) seq_len = std::min(seq_len, s.sliding_window);
  j["seq_len"] = seq_len;
  j["vocab_size"] = s.vocab;
  j["post_embed_norm"] = false;
  j["weight_tying"] = s.tied_embeddings;
  j["model_norm"] = s.norm == NormKind::RmsNorm ? "rms_norm" : "default_layer_norm";
  j["positional_embedding_type"] = s.rope_layout == RopeLayout::Interleaved ? "llama_rotary" : "rotary";
  j["rotary_base_frequency"] = s.rope_theta;
  j["ffn_type"] = "swiglu";
  if (s.supra) write_supra_config(j, SupraConfigDialect::OpenLm, s);
  return j;
}

nlohmann::ordered_json meta_params_from_spec(const ModelSpec& s) {
  require_llama_block(s, "a Meta params.json");
  if (s.norm != NormKind::RmsNorm) throw bad_input("spec.106", {}, "a Meta params.json cannot state a LayerNorm");
  if (s.rope_scaling.kind != RopeScalingKind::None && !same_scaling(s.rope_scaling, meta_scaled_rope()))
    throw bad_input("spec.106", {}, "a Meta params.json states only llama3 RoPE scaling with factor 8, low 1, high 4, "
                                    "original 8192 (use_scaled_rope)");
  nlohmann::ordered_json j;
  j["dim"] = s.hidden;
  j["n_layers"] = s.layers;
  j["n_heads"] = s.heads;
  j["n_kv_heads"] = s.kv_heads;
  if (s.head_dim * s.heads != s.hidden) j["head_dim"] = s.head_dim;
  j["vocab_size"] = s.vocab;
  // Meta: ffn = multiple_of * ceil(int(m * int(8 * dim / 3)) / multiple_of). With
  // multiple_of = ffn any product in (0, ffn] rounds up to ffn exactly.
  const uint64_t base = 2 * (4 * s.hidden) / 3;
  j["multiple_of"] = s.ffn;
  if (base > s.ffn) j["ffn_dim_multiplier"] = (double(s.ffn) - 0.5) / double(base);
  j["norm_eps"] = s.norm_eps;
  j["rope_theta"] = s.rope_theta;
  if (s.rope_scaling.kind != RopeScalingKind::None) j["use_scaled_rope"] = true;
  if (s.sliding_window) j["sliding_window"] = s.sliding_window;
  if (s.context_length) j["max_seq_len"] = s.context_length;
  return j;
}

}  // namespace supra
