#include "converters/relayout/gguf_llama_metadata.hpp"

#include <limits>

#include "schema/error.hpp"

namespace supra {

nlohmann::ordered_json gguf_llama_metadata(const ModelSpec& s) {
  if (s.architecture != "llama" && s.architecture != "qwen2")
    throw usage_error("usage.gguf-architecture",
                      "writing GGUF metadata for architecture '" + s.architecture + "' is not supported (llama, qwen2)");
  const std::string a = s.architecture;  // llama.cpp's arch name equals ours for these two
  nlohmann::ordered_json kvs = nlohmann::ordered_json::array();
  auto put = [&](const std::string& key, const char* type, nlohmann::ordered_json value) {
    kvs.push_back({{"key", key}, {"type", type}, {"value", std::move(value)}});
  };
  auto u32 = [&](const std::string& key, uint64_t v) {
    if (v > std::numeric_limits<uint32_t>::max())
      throw usage_error("usage.gguf-metadata", key + " = " + std::to_string(v) + " does not fit the u32 llama.cpp reads");
    put(key, "u32", v);
  };
  put("general.architecture", "string", a);
  u32(a + ".context_length", s.context_length ? s.context_length : 2048);
  u32(a + ".embedding_length", s.hidden);
  u32(a + ".block_count", s.layers);
  u32(a + ".feed_forward_length", s.ffn);
  u32(a + ".attention.head_count", s.heads);
  u32(a + ".attention.head_count_kv", s.kv_heads);
  put(a + ".attention.layer_norm_rms_epsilon", "f32", s.norm_eps);
  put(a + ".rope.freq_base", "f32", s.rope_theta);
  u32(a + ".rope.dimension_count", s.head_dim);  // llama: must equal the head dim
  u32(a + ".attention.key_length", s.head_dim);
  u32(a + ".attention.value_length", s.head_dim);
  u32(a + ".vocab_size", s.vocab);
  return kvs;
}

}  // namespace supra
