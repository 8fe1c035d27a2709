#include "tests/validate/tiny_models.hpp"

#include <cmath>
#include <random>

#include "tests/test_util.hpp"

namespace supra::test {

ModelSpec tiny_spec(Family family) {
  ModelSpec s;
  s.hidden = 32;
  s.layers = 2;
  s.heads = 4;
  s.kv_heads = 2;
  s.head_dim = 8;
  s.ffn = 48;
  s.vocab = 50;
  s.context_length = 64;
  s.rope_theta = 10000.0;
  switch (family) {
    case Family::Llama:
      s.architecture = "llama";
      break;
    case Family::Qwen2:
      s.architecture = "qwen2";
      s.attn_qkv_bias = true;
      s.norm_eps = 1e-6;
      s.rope_theta = 1e6;
      break;
    case Family::Gpt2:
      s.architecture = "gpt2";
      s.kv_heads = s.heads;
      s.norm = NormKind::LayerNorm;
      s.ffn_kind = FfnKind::GeluTanh;
      s.positions = PositionKind::Learned;
      s.rope_layout = RopeLayout::None;
      s.attn_qkv_bias = s.attn_out_bias = s.mlp_bias = true;
      s.tied_embeddings = true;
      break;
    case Family::NeoX:
      s.architecture = "gpt_neox";
      s.kv_heads = s.heads;
      s.norm = NormKind::LayerNorm;
      s.ffn_kind = FfnKind::Gelu;
      s.rotary_pct = 0.5;
      s.parallel_residual = true;
      s.attn_qkv_bias = s.attn_out_bias = s.mlp_bias = true;
      break;
  }
  return s;
}

CanonicalModel tiny_model(Family family, DType dtype, uint32_t seed) {
  CanonicalModel m;
  m.spec = tiny_spec(family);
  const ModelSpec& s = m.spec;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto add = [&](const std::string& name, std::vector<uint64_t> shape, float mean, float std) {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;
    std::vector<float> v(n);
    for (float& x : v) x = mean + std * normal(rng);
    m.checkpoint.tensors.push_back(make_tensor_from_floats(name, dtype, std::move(shape), v));
  };
  auto matrix = [&](const std::string& name, uint64_t out, uint64_t in) {
    add(name, {out, in}, 0.0f, 1.0f / std::sqrt(float(in)));
  };
  const bool ln = s.norm == NormKind::LayerNorm;
  matrix("embed.weight", s.vocab, s.hidden);
  if (s.positions == PositionKind::Learned) add("pos_embed.weight", {s.context_length, s.hidden}, 0.0f, 0.3f);
  for (uint64_t l = 0; l < s.layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", {s.hidden}, 1.0f, 0.1f);
    if (ln) add(p + "attn_norm.bias", {s.hidden}, 0.0f, 0.1f);
    matrix(p + "attn_q.weight", s.q_dim(), s.hidden);
    matrix(p + "attn_k.weight", s.kv_dim(), s.hidden);
    matrix(p + "attn_v.weight", s.kv_dim(), s.hidden);
    if (s.attn_qkv_bias) {
      add(p + "attn_q.bias", {s.q_dim()}, 0.0f, 0.1f);
      add(p + "attn_k.bias", {s.kv_dim()}, 0.0f, 0.1f);
      add(p + "attn_v.bias", {s.kv_dim()}, 0.0f, 0.1f);
    }
    matrix(p + "attn_out.weight", s.hidden, s.q_dim());
    if (s.attn_out_bias) add(p + "attn_out.bias", {s.hidden}, 0.0f, 0.1f);
    add(p + "ffn_norm.weight", {s.hidden}, 1.0f, 0.1f);
    if (ln) add(p + "ffn_norm.bias", {s.hidden}, 0.0f, 0.1f);
    if (s.ffn_kind == FfnKind::SwiGLU) matrix(p + "ffn_gate.weight", s.ffn, s.hidden);
    matrix(p + "ffn_up.weight", s.ffn, s.hidden);
    if (s.mlp_bias) add(p + "ffn_up.bias", {s.ffn}, 0.0f, 0.1f);
    matrix(p + "ffn_down.weight", s.hidden, s.ffn);
    if (s.mlp_bias) add(p + "ffn_down.bias", {s.hidden}, 0.0f, 0.1f);
  }
  add("output_norm.weight", {s.hidden}, 1.0f, 0.1f);
  if (ln) add("output_norm.bias", {s.hidden}, 0.0f, 0.1f);
  if (s.tied_embeddings)
    m.checkpoint.tensors.push_back(renamed(m.checkpoint.tensors.front(), "output.weight"));
  else
    matrix("output.weight", s.vocab, s.hidden);
  m.checkpoint.files = {"tiny-model"};
  m.index();
  return m;
}

}  // namespace supra::test
