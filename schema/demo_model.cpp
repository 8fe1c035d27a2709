#include "schema/demo_model.hpp"

#include "schema/model_spec.hpp"

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

namespace supra {
namespace {

// GPT-2's byte -> printable code point map: printable Latin-1 bytes map to
// themselves, the rest to U+0100 onwards in byte order.
std::string byte_token(int b) {
  auto printable = [](int c) { return (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255); };
  int cp = b;
  if (!printable(b)) {
    int n = 0;
    for (int c = 0; c < b; ++c)
      if (!printable(c)) ++n;
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else {
    s += char(0xc0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3f));
  }
  return s;
}

}  // namespace

std::string demo_config_json(const DemoModelShape& s, DType dtype) {
  ModelSpec spec;
  spec.architecture = "llama";
  spec.hidden = s.hidden;
  spec.layers = s.layers;
  spec.heads = s.heads;
  spec.kv_heads = s.kv_heads;
  spec.head_dim = s.hidden / s.heads;
  spec.ffn = s.ffn;
  spec.vocab = s.vocab;
  spec.context_length = 2048;
  spec.norm_eps = 1e-5;
  spec.rope_theta = 10000.0;
  nlohmann::ordered_json j = hf_config_from_spec(spec, std::string(dtype_torch_name(dtype)));
  j["bos_token_id"] = 258;  // <|bos|> and <|eos|> of demo_tokenizer_json
  j["eos_token_id"] = 259;
  return j.dump(2) + "\n";
}

std::string demo_tokenizer_json() {
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_token(b)] = b;
  const std::string space = byte_token(' ');
  vocab[space + "t"] = 256;
  vocab["he"] = 257;
  nlohmann::ordered_json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = {
      {{"id", 258}, {"content", "<|bos|>"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
       {"normalized", false}, {"special", true}},
      {{"id", 259}, {"content", "<|eos|>"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
       {"normalized", false}, {"special", true}}};
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                        {"use_regex", true}};
  j["post_processor"] = nullptr;
  j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"vocab", vocab},
                {"merges", {space + " t", "h e"}}};
  return j.dump(2) + "\n";
}

std::string demo_tokenizer_config_json() {
  nlohmann::ordered_json j;
  j["bos_token"] = "<|bos|>";
  j["eos_token"] = "<|eos|>";
  j["add_bos_token"] = true;
  j["add_eos_token"] = false;
  j["model_max_length"] = 2048;
  j["tokenizer_class"] = "PreTrainedTokenizerFast";
  return j.dump(2) + "\n";
}

}  // namespace supra
