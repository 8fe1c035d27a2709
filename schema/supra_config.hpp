#pragma once
// The SUPRA fields of the two configs the authors' code reads (TRI-ML/linear_open_lm):
// the trainer's open_lm model JSON (`--model x.json`: create_params) and the
// Hugging Face wrapper's config.json (model_type "openlm": every key that is
// an open_lm Params field). Both name the same fields but two of them:
//   open_lm JSON: qk_norm,       model_norm, hidden_dim
//   HF openlm:    apply_qk_norm, norm_type,  dim
// The shape fields of the HF config go through the "supra" architecture
// table's hf_config section; this file adds what a table cannot say.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "schema/model_spec.hpp"

namespace supra {

enum class SupraConfigDialect { OpenLm, HfOpenlm };

// HF-dialect extension (not read by the authors' wrapper): layers that keep
// softmax attention in a hybrid model.
inline constexpr const char* kSupraSoftmaxLayersKey = "supra_softmax_layers";

// Sets s.supra (and architecture "supra") when the config says
// attn_name = linear_attn; otherwise leaves `s` alone. Also refuses
// (spec.105) open_lm features no supra reader implements (rotary_scale != 1,
// moe_freq > 0, positional embeddings other than rotary / llama_rotary).
void read_supra_config(const nlohmann::json& c, SupraConfigDialect dialect, ModelSpec& s, const std::string& source);

// Adds the SUPRA fields of `s` (which must have a supra section) to `j`.
// The open_lm dialect refuses (spec.106) a hybrid model: attn_name is one
// value for every layer there.
void write_supra_config(nlohmann::ordered_json& j, SupraConfigDialect dialect, const ModelSpec& s);

// Consistency of s.supra with the rest of the spec (called by ModelSpec::check):
// spec.102 for contradictions, spec.105 for what the authors' code cannot run.
void check_supra_spec(const ModelSpec& s, const std::string& source);

// "none" | "lightning" | "retnet".
const char* supra_decay_name(SupraDecay d);
std::optional<SupraDecay> supra_decay_from_name(const std::string& name);

}  // namespace supra
