#include "validate/model.hpp"

#include "schema/error.hpp"
#include "validate/kernels.hpp"
#include "validate/weights.hpp"

namespace supra::validate {

namespace {

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Refuses, before any compute, what this engine does not run.
void check_supported(const ModelSpec& spec, const std::string& source) {
  auto refuse = [&](const std::string& id, const std::string& detail) {
    return bad_input("forward." + id, {source, {}, {}}, detail);
  };
  if (spec.supra && spec.positions != PositionKind::Rope)
    throw refuse("supra", "SUPRA layers without rotary positions are not computed by this engine");
  if (spec.positions == PositionKind::Rope) {
    const uint64_t rd = spec.rotary_dim();
    if (rd == 0 || rd > spec.head_dim || rd % 2 != 0)
      throw refuse("rope", "rotary dims " + std::to_string(rd) + " do not fit head dim " + std::to_string(spec.head_dim));
    if (!(spec.rope_theta > 0)) throw refuse("rope", "rope_theta must be positive");
  }
  const RopeScaling& rs = spec.rope_scaling;
  if (rs.kind != RopeScalingKind::None && !(rs.factor > 0))
    throw refuse("rope_scaling", "rope_scaling.factor must be positive");
  if (rs.kind == RopeScalingKind::Llama3 &&
      (!(rs.high_freq_factor > rs.low_freq_factor) || !(rs.low_freq_factor > 0) || rs.original_max_position_embeddings == 0))
    throw refuse("rope_scaling", "llama3 rope_scaling needs 0 < low_freq_factor < high_freq_factor and "
                                 "original_max_position_embeddings > 0");
}

}  // namespace

Model::Model(CanonicalModel canonical) : canonical_(std::move(canonical)) {
  const CanonicalModel& m = canonical_;
  const ModelSpec& spec = m.spec;
  source_ = m.checkpoint.files.empty() ? std::string() : m.checkpoint.files.front();
  spec.check(source_);
  check_supported(spec, source_);
  const uint64_t hidden = spec.hidden;
  const bool layer_norm = spec.norm == NormKind::LayerNorm;

  embed = m.require_global("embed.weight");
  check_shape(embed, {spec.vocab, hidden});
  if (spec.positions == PositionKind::Learned) {
    pos_embed = m.require_global("pos_embed.weight");
    check_shape(pos_embed, {pos_embed->info().shape.empty() ? 0 : pos_embed->info().shape[0], hidden});
  }
  output_norm = m.require_global("output_norm.weight");
  check_shape(output_norm, {hidden});
  output_norm_bias = layer_norm ? m.global("output_norm.bias") : nullptr;
  if (output_norm_bias) check_shape(output_norm_bias, {hidden});
  output = m.require_global("output.weight");
  check_shape(output, {spec.vocab, hidden});

  layers_.reserve(spec.layers);
  for (uint64_t l = 0; l < spec.layers; ++l) layers_.push_back(load_layer(l));

  if (spec.positions == PositionKind::Rope) {
    std::vector<double> factors;
    if (TensorPtr f = m.global("rope_freqs.weight")) factors = read_vector<double>(*f);
    ModelSpec rope_spec = spec;
    // rope_freqs (llama.cpp) already are the llama3 band factors: apply them instead, not on top.
    if (!factors.empty() && rope_spec.rope_scaling.kind == RopeScalingKind::Llama3)
      rope_spec.rope_scaling.kind = RopeScalingKind::None;
    rope_inv_freq = supra::validate::rope_inv_freq(rope_spec, factors);
  }
  supra_decay = supra_decay_rates(spec);
}

LayerWeights Model::load_layer(uint64_t l) const {
  const CanonicalModel& m = canonical_;
  const ModelSpec& spec = m.spec;
  const uint64_t hidden = spec.hidden, q_dim = spec.q_dim(), kv_dim = spec.kv_dim(), ffn = spec.ffn;
  // A flag of the spec makes a tensor required; without it the tensor is used when present.
  auto optional = [&](const char* id, bool required) { return required ? m.require_layer(l, id) : m.layer(l, id); };
  LayerWeights w;
  w.attn_norm = m.require_layer(l, "attn_norm.weight");
  w.ffn_norm = m.require_layer(l, "ffn_norm.weight");
  if (spec.norm == NormKind::LayerNorm) {
    w.attn_norm_bias = m.layer(l, "attn_norm.bias");
    w.ffn_norm_bias = m.layer(l, "ffn_norm.bias");
  }
  w.q = m.require_layer(l, "attn_q.weight");
  w.k = m.require_layer(l, "attn_k.weight");
  w.v = m.require_layer(l, "attn_v.weight");
  w.q_bias = optional("attn_q.bias", spec.attn_qkv_bias);
  w.k_bias = optional("attn_k.bias", spec.attn_qkv_bias);
  w.v_bias = optional("attn_v.bias", spec.attn_qkv_bias);
  w.out = m.require_layer(l, "attn_out.weight");
  w.out_bias = optional("attn_out.bias", spec.attn_out_bias);
  if (spec.ffn_kind == FfnKind::SwiGLU) w.gate = m.require_layer(l, "ffn_gate.weight");
  w.up = m.require_layer(l, "ffn_up.weight");
  w.down = m.require_layer(l, "ffn_down.weight");
  w.up_bias = optional("ffn_up.bias", spec.mlp_bias);
  w.down_bias = optional("ffn_down.bias", spec.mlp_bias);

  for (const TensorPtr& t : {w.attn_norm, w.attn_norm_bias, w.ffn_norm, w.ffn_norm_bias, w.out_bias, w.down_bias})
    check_shape(t, {hidden});
  check_shape(w.q, {q_dim, hidden});
  check_shape(w.k, {kv_dim, hidden});
  check_shape(w.v, {kv_dim, hidden});
  check_shape(w.q_bias, {q_dim});
  check_shape(w.k_bias, {kv_dim});
  check_shape(w.v_bias, {kv_dim});
  check_shape(w.out, {hidden, q_dim});
  check_shape(w.gate, {ffn, hidden});
  check_shape(w.up, {ffn, hidden});
  check_shape(w.up_bias, {ffn});
  check_shape(w.down, {hidden, ffn});
  if (attention_kind(l) == AttentionKind::SupraLinear) {
    const uint64_t fq = spec.symbol("feature_q"), fk = spec.symbol("feature_k");
    w.feature_q = m.require_layer(l, "attn_feature_q.weight");
    w.feature_q_bias = m.require_layer(l, "attn_feature_q.bias");
    w.feature_k = m.require_layer(l, "attn_feature_k.weight");  // q's (tied) without grouped-query attention
    w.feature_k_bias = m.require_layer(l, "attn_feature_k.bias");
    w.feature_q_norm = optional("attn_feature_q_norm.weight", spec.supra->qk_norm);
    w.feature_k_norm = optional("attn_feature_k_norm.weight", spec.supra->qk_norm);
    check_shape(w.feature_q, {fq, q_dim});
    check_shape(w.feature_q_bias, {fq});
    check_shape(w.feature_k, {fk, kv_dim});
    check_shape(w.feature_k_bias, {fk});
    check_shape(w.feature_q_norm, {fq});
    check_shape(w.feature_k_norm, {fq});
  }
  return w;
}

void Model::check_shape(const TensorPtr& t, std::vector<uint64_t> shape) const {
  if (!t) return;  // an optional tensor the model does not have
  const TensorInfo& info = t->info();
  if (info.shape != shape)
    throw bad_input("forward.shape", {source_, info.name, {}},
                    "expected shape " + shape_text(shape) + " from the model config, found " + info.shape_string());
  if (!dtype_is_float(info.dtype))
    throw bad_input("forward.dtype", {source_, info.name, {}},
                    "the forward pass needs floating-point weights, not " + std::string(dtype_name(info.dtype)));
}

}  // namespace supra::validate
