#include "schema/demo_model.hpp"

#include <cmath>
#include <random>

namespace supra {
namespace {

TensorPtr random_tensor(const std::string& name, DType dtype, std::vector<uint64_t> shape, float std_dev,
                        std::mt19937& rng) {
  TensorInfo info{name, dtype, std::move(shape)};
  std::vector<float> values(info.numel());
  std::normal_distribution<float> normal(0.0f, std_dev);
  for (auto& v : values) v = normal(rng);
  std::vector<std::byte> bytes(info.nbytes());
  CastStats stats;
  cast_elements(DType::F32, reinterpret_cast<const std::byte*>(values.data()), dtype, bytes.data(), values.size(),
                stats);
  return std::make_shared<MemoryTensorSource>(info, std::move(bytes));
}

TensorPtr ones(const std::string& name, DType dtype, uint64_t n) {
  TensorInfo info{name, dtype, {n}};
  std::vector<float> values(n, 1.0f);
  std::vector<std::byte> bytes(info.nbytes());
  CastStats stats;
  cast_elements(DType::F32, reinterpret_cast<const std::byte*>(values.data()), dtype, bytes.data(), n, stats);
  return std::make_shared<MemoryTensorSource>(info, std::move(bytes));
}

}  // namespace

Checkpoint make_demo_checkpoint(const DemoModelShape& s, DType dtype, uint32_t seed) {
  std::mt19937 rng(seed);
  const uint64_t head_dim = s.hidden / s.heads;
  const float init = 0.02f;  // the usual initializer_range
  Checkpoint ckpt;
  ckpt.format = "demo";
  ckpt.metadata["format"] = "pt";
  ckpt.metadata["supra.demo"] = "tiny llama: vocab " + std::to_string(s.vocab) + ", hidden " +
                                std::to_string(s.hidden) + ", layers " + std::to_string(s.layers);
  auto add = [&](TensorPtr t) { ckpt.tensors.push_back(std::move(t)); };
  add(random_tensor("model.embed_tokens.weight", dtype, {s.vocab, s.hidden}, init, rng));
  for (uint64_t l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(ones(p + "input_layernorm.weight", dtype, s.hidden));
    add(random_tensor(p + "self_attn.q_proj.weight", dtype, {s.heads * head_dim, s.hidden}, init, rng));
    add(random_tensor(p + "self_attn.k_proj.weight", dtype, {s.kv_heads * head_dim, s.hidden}, init, rng));
    add(random_tensor(p + "self_attn.v_proj.weight", dtype, {s.kv_heads * head_dim, s.hidden}, init, rng));
    add(random_tensor(p + "self_attn.o_proj.weight", dtype, {s.hidden, s.heads * head_dim}, init, rng));
    add(ones(p + "post_attention_layernorm.weight", dtype, s.hidden));
    add(random_tensor(p + "mlp.gate_proj.weight", dtype, {s.ffn, s.hidden}, init, rng));
    add(random_tensor(p + "mlp.up_proj.weight", dtype, {s.ffn, s.hidden}, init, rng));
    add(random_tensor(p + "mlp.down_proj.weight", dtype, {s.hidden, s.ffn}, init, rng));
  }
  add(ones("model.norm.weight", dtype, s.hidden));
  add(random_tensor("lm_head.weight", dtype, {s.vocab, s.hidden}, init, rng));
  return ckpt;
}

}  // namespace supra
