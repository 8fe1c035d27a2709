#include "schema/supra_config.hpp"

#include "schema/error.hpp"
#include "schema/spec_fields.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

const json* value_of(const json& c, const std::string& key) {
  if (!c.contains(key) || c.at(key).is_null()) return nullptr;
  return &c.at(key);
}

bool bool_or(const json& c, const std::string& key, bool fallback, const std::string& source) {
  const json* v = value_of(c, key);
  if (!v) return fallback;
  if (!v->is_boolean()) throw bad_input("spec.101", {source, {}, {}}, "'" + key + "' must be true or false");
  return v->get<bool>();
}

std::string string_or(const json& c, const std::string& key, const std::string& fallback, const std::string& source) {
  const json* v = value_of(c, key);
  if (!v) return fallback;
  if (!v->is_string()) throw bad_input("spec.101", {source, {}, {}}, "'" + key + "' must be a string");
  return v->get<std::string>();
}

// What no supra reader implements, in either dialect.
void refuse_unsupported(const json& c, SupraConfigDialect dialect, const std::string& source) {
  auto refuse = [&](const std::string& what) { return bad_input("spec.105", {source, {}, {}}, what + " is not supported"); };
  if (const json* v = value_of(c, "rotary_scale"); v && real_from_json(*v, "rotary_scale", source) != 1.0)
    throw refuse("'rotary_scale' = " + v->dump());
  if (const json* v = value_of(c, "moe_freq"); v && count_from_json(*v, "moe_freq", source) != 0)
    throw refuse("'moe_freq' = " + v->dump() + " (mixture of experts)");
  if (dialect == SupraConfigDialect::HfOpenlm) {
    const std::string pos = string_or(c, "positional_embedding_type", "rotary", source);
    if (pos != "rotary" && pos != "llama_rotary") throw refuse("'positional_embedding_type' = '" + pos + "'");
  }
}

std::vector<bool> linear_layers_from(const json& c, SupraConfigDialect dialect, uint64_t layers, const std::string& source) {
  std::vector<bool> linear(layers, true);
  const json* softmax = dialect == SupraConfigDialect::HfOpenlm ? value_of(c, kSupraSoftmaxLayersKey) : nullptr;
  if (!softmax) return linear;
  if (!softmax->is_array())
    throw bad_input("spec.101", {source, {}, {}}, std::string("'") + kSupraSoftmaxLayersKey + "' must be an array of layer numbers");
  for (const json& l : *softmax) {
    const uint64_t layer = count_from_json(l, kSupraSoftmaxLayersKey, source);
    if (layer >= layers)
      throw bad_input("spec.102", {source, {}, {}},
                      std::string("'") + kSupraSoftmaxLayersKey + "' names layer " + std::to_string(layer) + " of " +
                          std::to_string(layers));
    linear[layer] = false;
  }
  return linear;
}

}  // namespace

const char* supra_decay_name(SupraDecay d) {
  switch (d) {
    case SupraDecay::None: return "none";
    case SupraDecay::Lightning: return "lightning";
    case SupraDecay::Retnet: return "retnet";
  }
  return "?";
}

std::optional<SupraDecay> supra_decay_from_name(const std::string& name) {
  for (SupraDecay d : {SupraDecay::None, SupraDecay::Lightning, SupraDecay::Retnet})
    if (name == supra_decay_name(d)) return d;
  return std::nullopt;
}

void read_supra_config(const json& c, SupraConfigDialect dialect, ModelSpec& s, const std::string& source) {
  refuse_unsupported(c, dialect, source);
  if (dialect == SupraConfigDialect::HfOpenlm) {
    const std::string pos = string_or(c, "positional_embedding_type", "rotary", source);
    s.rope_layout = pos == "llama_rotary" ? RopeLayout::Interleaved : RopeLayout::RotateHalf;
    if (!value_of(c, "norm_type"))
      throw bad_input("spec.101", {source, {}, {}}, "missing 'norm_type' (the wrapper's default is nn.LayerNorm with biases)");
  }
  const std::string attn = string_or(c, "attn_name", "", source);
  if (attn != "linear_attn") {
    if (dialect == SupraConfigDialect::HfOpenlm)
      throw bad_input("spec.105", {source, {}, {}},
                      "an openlm config with attn_name '" + attn + "': only linear_attn (SUPRA) models are supported");
    return;
  }
  s.architecture = "supra";
  SupraSpec sp;
  const uint64_t width = s.heads ? s.hidden / s.heads : 0;  // open_lm: dim // n_heads
  const json* qk = value_of(c, "qk_head_dim");
  sp.qk_dim = qk ? count_from_json(*qk, "qk_head_dim", source) : width;
  const json* v = value_of(c, "v_head_dim");
  sp.v_dim = v ? count_from_json(*v, "v_head_dim", source) : width;
  const bool use_decay = bool_or(c, "use_decay", false, source);
  const bool retnet = bool_or(c, "use_retnet_slopes", false, source);
  sp.decay = !use_decay ? SupraDecay::None : retnet ? SupraDecay::Retnet : SupraDecay::Lightning;
  // get_slope_tensor ignores the start for RetNet slopes and without decay.
  if (const json* start = value_of(c, "decay_start"); start && sp.decay == SupraDecay::Lightning)
    sp.decay_start = real_from_json(*start, "decay_start", source);
  sp.qk_norm = bool_or(c, dialect == SupraConfigDialect::OpenLm ? "qk_norm" : "apply_qk_norm", false, source);
  sp.linear_layers = linear_layers_from(c, dialect, s.layers, source);
  s.supra = sp;
}

void write_supra_config(nlohmann::ordered_json& j, SupraConfigDialect dialect, const ModelSpec& s) {
  const SupraSpec& sp = s.supra.value();
  std::vector<uint64_t> softmax;
  for (uint64_t l = 0; l < sp.linear_layers.size(); ++l)
    if (!sp.linear_layers[l]) softmax.push_back(l);
  if (dialect == SupraConfigDialect::OpenLm && !softmax.empty())
    throw bad_input("spec.106", {}, "an open_lm config cannot state a hybrid model (attn_name is one value for all layers)");
  if (dialect == SupraConfigDialect::HfOpenlm) {
    j["post_embed_norm"] = false;
    j["positional_embedding_type"] = s.rope_layout == RopeLayout::Interleaved ? "llama_rotary" : "rotary";
  }
  j["attn_name"] = "linear_attn";
  j["qk_head_dim"] = sp.qk_dim;
  j["v_head_dim"] = sp.v_dim ? sp.v_dim : s.head_dim;
  j[dialect == SupraConfigDialect::OpenLm ? "qk_norm" : "apply_qk_norm"] = sp.qk_norm;
  j["use_decay"] = sp.decay != SupraDecay::None;
  j["use_retnet_slopes"] = sp.decay == SupraDecay::Retnet;
  j["decay_start"] = sp.decay_start ? json(*sp.decay_start) : json(nullptr);
  if (dialect == SupraConfigDialect::HfOpenlm && !softmax.empty()) j[kSupraSoftmaxLayersKey] = softmax;
}

void check_supra_spec(const ModelSpec& s, const std::string& source) {
  if (!s.supra) return;
  const SupraSpec& sp = *s.supra;
  auto bad = [&](const std::string& detail) { return bad_input("spec.102", {source, {}, {}}, "SUPRA: " + detail); };
  if (s.architecture != "supra") throw bad("a SUPRA section on architecture '" + s.architecture + "'");
  if (sp.linear_layers.size() != s.layers)
    throw bad(std::to_string(sp.linear_layers.size()) + " layer kinds for " + std::to_string(s.layers) + " layers");
  if (sp.qk_dim == 0 || sp.qk_dim > 65536) throw bad("qk_head_dim must be in 1..65536");
  if (s.head_dim * s.heads != s.hidden)
    throw bad_input("spec.105", {source, {}, {}},
                    "SUPRA: head_dim " + std::to_string(s.head_dim) + " != hidden / heads (open_lm's in_proj uses dim // n_heads)");
  if (sp.v_dim != 0 && sp.v_dim != s.head_dim)
    throw bad_input("spec.105", {source, {}, {}},
                    "SUPRA: v_head_dim " + std::to_string(sp.v_dim) + " != hidden / heads " + std::to_string(s.head_dim) +
                        " is not supported");
  if (s.positions == PositionKind::Rope && sp.qk_dim != s.head_dim)
    throw bad("qk_head_dim " + std::to_string(sp.qk_dim) + " with rotary positions must equal hidden / heads " +
              std::to_string(s.head_dim) + " (open_lm builds the RoPE table for that width)");
  if (sp.decay_start && !(*sp.decay_start > 0)) throw bad("decay_start must be positive");
  if (sp.decay == SupraDecay::Lightning && (s.heads & (s.heads - 1)) != 0)
    throw bad_input("spec.105", {source, {}, {}},
                    "SUPRA: lightning decay with " + std::to_string(s.heads) +
                        " heads (not a power of two): the authors' get_slopes fails for it");
}

}  // namespace supra
