#pragma once
// The shape of a transformer, independent of files and naming: what a
// re-layout, a config writer or a forward pass needs to know. Read from the
// configs the ecosystems ship (HF config.json, Meta params.json, open_lm model
// config JSON, GGUF metadata) and written back as HF config.json.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "schema/naming_table.hpp"

namespace supra {

enum class NormKind { RmsNorm, LayerNorm };

// The MLP: SwiGLU = down(silu(gate(x)) * up(x)) (Llama family);
// Gelu / GeluTanh = down(gelu(up(x))) with erf or tanh GELU (NeoX, GPT-2).
enum class FfnKind { SwiGLU, Gelu, GeluTanh };

// How positions enter: RoPE on q/k, or a learned table added to the embedding (GPT-2).
enum class PositionKind { Rope, Learned };

// HF `rope_scaling` (transformers' modeling_rope_utils): linear divides every
// inverse frequency by `factor`; llama3 rescales by wavelength band.
enum class RopeScalingKind { None, Linear, Llama3 };

struct RopeScaling {
  RopeScalingKind kind = RopeScalingKind::None;
  double factor = 1.0;
  double low_freq_factor = 1.0;                   // llama3
  double high_freq_factor = 4.0;                  // llama3
  uint64_t original_max_position_embeddings = 8192;  // llama3
};

// Decay of the SUPRA linear attention (see linearize/ and the reference's supra-layer digest).
enum class SupraDecay { None, Lightning, Retnet };

// What a SUPRA (linearized) model adds to the spec; filled by the linearize
// stage and by readers of SUPRA checkpoints.
struct SupraSpec {
  std::vector<bool> linear_layers;  // per layer: true = linear attention, false = softmax kept
  uint64_t qk_dim = 0;              // feature width of the q/k MLP per head
  uint64_t v_dim = 0;               // value width per head (0 = head_dim)
  SupraDecay decay = SupraDecay::Lightning;
  std::optional<double> decay_start;  // lightning: slope of head 0 (null = 2^(-8/H), the authors' default)
  bool qk_norm = false;
};

struct ModelSpec {
  std::string architecture = "llama";  // a schema/architectures table ("llama", "qwen2", "gpt2", "gpt_neox")
  std::string hf_model_type;           // "mistral" for a Mistral (architecture llama); empty = architecture
  uint64_t hidden = 0;                 // model width (embedding length)
  uint64_t layers = 0;
  uint64_t heads = 0;
  uint64_t kv_heads = 0;               // = heads without grouped-query attention
  uint64_t head_dim = 0;               // usually hidden / heads
  uint64_t ffn = 0;                    // MLP inner width
  uint64_t vocab = 0;
  uint64_t context_length = 0;         // max positions (0 = unknown)
  NormKind norm = NormKind::RmsNorm;
  double norm_eps = 1e-5;
  double rope_theta = 10000.0;
  // Row order the model's own checkpoints store q/k in (HF: rotate-half;
  // Meta, GGUF llama: interleaved; open_lm: per positional_embedding_type).
  RopeLayout rope_layout = RopeLayout::RotateHalf;
  double rotary_pct = 1.0;             // GPT-NeoX: fraction of head dims rotated
  bool tied_embeddings = false;

  // What a forward pass needs beyond the shapes. Every reader starts from the
  // architecture table's "forward" facts; HF configs may override them through
  // the table's "hf_config" mapping (schema/spec_fields.hpp names these fields).
  FfnKind ffn_kind = FfnKind::SwiGLU;
  PositionKind positions = PositionKind::Rope;
  bool parallel_residual = false;      // GPT-NeoX: x + attn(ln1(x)) + mlp(ln2(x))
  bool attn_qkv_bias = false;          // q/k/v projections have biases (Qwen2, GPT-2, NeoX)
  bool attn_out_bias = false;          // output projection has a bias (GPT-2, NeoX)
  bool mlp_bias = false;               // MLP projections have biases (GPT-2, NeoX)
  RopeScaling rope_scaling;
  // Mistral sliding-window attention: a token attends to the last
  // `sliding_window` positions only (0 = no window, full causal attention).
  uint64_t sliding_window = 0;
  std::optional<SupraSpec> supra;      // set for linearized (SUPRA) models

  // Number of leading head dims that RoPE rotates (even): head_dim * rotary_pct.
  uint64_t rotary_dim() const;

  uint64_t q_dim() const { return heads * head_dim; }
  uint64_t kv_dim() const { return kv_heads * head_dim; }
  // Size of a shape symbol of the architecture tables (hidden, q_dim, ...).
  uint64_t symbol(const std::string& s) const;
  // Throws bad_input(spec.1xx) when fields are missing or inconsistent.
  void check(const std::string& source) const;
};

// The spec an architecture's "forward" facts describe, shapes left at 0
// (where every reader starts; throws usage_error for an unknown architecture).
ModelSpec spec_with_forward_facts(const std::string& architecture);

// Readers; `source` names the file in error messages. Each checks the result.
// bad_input ids: spec.101 malformed field, spec.102 inconsistent, spec.103 unknown
// model type, spec.104 malformed GGUF KVs, spec.105 a feature the forward pass
// does not implement (rope_scaling type, activation, ...).
ModelSpec spec_from_hf_config(const nlohmann::json& config, const std::string& source);
// params.json has no vocab size in older releases (-1): pass the embedding rows.
ModelSpec spec_from_meta_params(const nlohmann::json& params, uint64_t vocab_rows, const std::string& source);
ModelSpec spec_from_open_lm_config(const nlohmann::json& config, const std::string& source);
// GGUF KVs as the GGUF reader stores them: an array of {"key","type","value"}.
ModelSpec spec_from_gguf_metadata(const nlohmann::ordered_json& kvs, const std::string& source);

// Writers. They refuse (bad_input spec.106) a spec the target format cannot state,
// rather than write a config that describes another model.
nlohmann::ordered_json hf_config_from_spec(const ModelSpec& spec, const std::string& torch_dtype);
nlohmann::ordered_json open_lm_config_from_spec(const ModelSpec& spec);
// Meta params.json; multiple_of / ffn_dim_multiplier are chosen so that
// Meta's FFN-width formula gives back exactly spec.ffn.
nlohmann::ordered_json meta_params_from_spec(const ModelSpec& spec);

}  // namespace supra
