// ModelSpec from the configs each ecosystem ships. Expected values are the
// published shapes of real models (Llama-2-7B/70B, Llama-3-8B, Mistral-7B,
// GPT-2, Pythia), not values computed by the code under test.
#include "schema/model_spec.hpp"

#include <gtest/gtest.h>

#include "schema/error.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

std::string error_id(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.id();
  }
  return "no error";
}

TEST(ModelSpec, HfMistral7B) {
  const json c = json::parse(R"({"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 4096,
    "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
    "max_position_embeddings": 32768, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": false,
    "vocab_size": 32000})");
  const ModelSpec s = spec_from_hf_config(c, "config.json");
  EXPECT_EQ(s.architecture, "llama");
  EXPECT_EQ(s.hf_model_type, "mistral");
  EXPECT_EQ(s.hidden, 4096u);
  EXPECT_EQ(s.kv_heads, 8u);
  EXPECT_EQ(s.head_dim, 128u);
  EXPECT_EQ(s.kv_dim(), 1024u);
  EXPECT_EQ(s.ffn, 14336u);
  EXPECT_EQ(s.rope_layout, RopeLayout::RotateHalf);
  EXPECT_DOUBLE_EQ(s.norm_eps, 1e-5);
  // Written back, read again: the same model.
  const ModelSpec again = spec_from_hf_config(json(hf_config_from_spec(s, "bfloat16")), "again");
  EXPECT_EQ(again.hf_model_type, "mistral");
  EXPECT_EQ(again.kv_heads, 8u);
  EXPECT_EQ(again.ffn, 14336u);
  EXPECT_EQ(again.context_length, 32768u);
}

TEST(ModelSpec, HfGpt2AndNeox) {
  const ModelSpec g = spec_from_hf_config(
      json::parse(R"({"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024, "vocab_size": 50257})"),
      "c");
  EXPECT_EQ(g.architecture, "gpt2");
  EXPECT_EQ(g.ffn, 3072u);
  EXPECT_TRUE(g.tied_embeddings);
  EXPECT_EQ(g.norm, NormKind::LayerNorm);
  const ModelSpec n = spec_from_hf_config(json::parse(R"({"model_type": "gpt_neox", "hidden_size": 512, "num_hidden_layers": 6,
    "num_attention_heads": 8, "intermediate_size": 2048, "vocab_size": 50304, "rotary_pct": 0.25, "layer_norm_eps": 1e-05})"),
                                          "c");
  EXPECT_EQ(n.architecture, "gpt_neox");
  EXPECT_EQ(n.head_dim, 64u);
  EXPECT_DOUBLE_EQ(n.rotary_pct, 0.25);
}

TEST(ModelSpec, MetaParamsFfnWidths) {
  // Llama-2-7B: 11008; Llama-2-70B: 28672 with 8 kv heads; Llama-3-8B: 14336.
  const ModelSpec l7 = spec_from_meta_params(
      json::parse(R"({"dim": 4096, "multiple_of": 256, "n_heads": 32, "n_layers": 32, "norm_eps": 1e-05, "vocab_size": -1})"),
      32000, "params.json");
  EXPECT_EQ(l7.ffn, 11008u);
  EXPECT_EQ(l7.vocab, 32000u);
  EXPECT_EQ(l7.rope_layout, RopeLayout::Interleaved);
  const ModelSpec l70 = spec_from_meta_params(json::parse(R"({"dim": 8192, "multiple_of": 4096, "ffn_dim_multiplier": 1.3,
    "n_heads": 64, "n_kv_heads": 8, "n_layers": 80, "norm_eps": 1e-05, "vocab_size": -1})"),
                                              32000, "params.json");
  EXPECT_EQ(l70.ffn, 28672u);
  EXPECT_EQ(l70.kv_heads, 8u);
  const ModelSpec l3 = spec_from_meta_params(json::parse(R"({"dim": 4096, "n_layers": 32, "n_heads": 32, "n_kv_heads": 8,
    "vocab_size": 128256, "multiple_of": 1024, "ffn_dim_multiplier": 1.3, "norm_eps": 1e-05, "rope_theta": 500000.0})"),
                                             0, "params.json");
  EXPECT_EQ(l3.ffn, 14336u);
  EXPECT_EQ(l3.vocab, 128256u);
  EXPECT_DOUBLE_EQ(l3.rope_theta, 500000.0);
}

TEST(ModelSpec, MetaParamsWrittenFromSpecGiveBackTheFfn) {
  for (uint64_t hidden : std::vector<uint64_t>{64, 4096}) {
    for (uint64_t ffn : std::vector<uint64_t>{1 + hidden, 172, 11008, 14336, 100, 7}) {
      ModelSpec s;
      s.hidden = hidden, s.layers = 2, s.heads = 4, s.kv_heads = 2, s.head_dim = hidden / 4, s.ffn = ffn, s.vocab = 10;
      const ModelSpec back = spec_from_meta_params(json(meta_params_from_spec(s)), 0, "params.json");
      EXPECT_EQ(back.ffn, ffn) << hidden;
      EXPECT_EQ(back.kv_heads, 2u);
    }
  }
}

TEST(ModelSpec, OpenLmLlama2Config) {
  // open_lm/model_configs/llama2_7b.json
  const ModelSpec s = spec_from_open_lm_config(json::parse(R"({"hidden_dim": 4096, "n_layers": 32, "n_heads": 32,
    "seq_len": 4096, "vocab_size": 32000, "post_embed_norm": false, "weight_tying": false,
    "positional_embedding_type": "llama_rotary", "model_norm": "rms_norm", "ffn_type": "swiglu"})"),
                                               "open_lm.json");
  EXPECT_EQ(s.ffn, 11008u);
  EXPECT_EQ(s.rope_layout, RopeLayout::Interleaved);
  EXPECT_EQ(s.norm, NormKind::RmsNorm);
  EXPECT_EQ(s.kv_heads, 32u);
  const ModelSpec back = spec_from_open_lm_config(json(open_lm_config_from_spec(s)), "again");
  EXPECT_EQ(back.ffn, 11008u);
  EXPECT_EQ(back.rope_layout, RopeLayout::Interleaved);
}

TEST(ModelSpec, GgufMetadata) {
  const nlohmann::ordered_json kvs = nlohmann::ordered_json::parse(R"([
    {"key": "general.architecture", "type": "string", "value": "llama"},
    {"key": "llama.embedding_length", "type": "u32", "value": 64},
    {"key": "llama.block_count", "type": "u32", "value": 2},
    {"key": "llama.feed_forward_length", "type": "u32", "value": 172},
    {"key": "llama.attention.head_count", "type": "u32", "value": 4},
    {"key": "llama.attention.head_count_kv", "type": "u32", "value": 2},
    {"key": "llama.attention.layer_norm_rms_epsilon", "type": "f32", "value": 1e-6},
    {"key": "llama.rope.freq_base", "type": "f32", "value": 500000.0},
    {"key": "tokenizer.ggml.tokens", "type": "array", "element_type": "string", "value": ["a", "b", "c"]}])");
  const ModelSpec s = spec_from_gguf_metadata(kvs, "m.gguf");
  EXPECT_EQ(s.hidden, 64u);
  EXPECT_EQ(s.kv_heads, 2u);
  EXPECT_EQ(s.head_dim, 16u);
  EXPECT_EQ(s.vocab, 3u);
  EXPECT_DOUBLE_EQ(s.rope_theta, 500000.0);
  EXPECT_EQ(s.rope_layout, RopeLayout::Interleaved);
}

TEST(ModelSpec, BadConfigsHaveIds) {
  EXPECT_EQ(error_id([] { spec_from_hf_config(json::parse(R"({"model_type": "llama"})"), "c"); }), "spec.101");
  EXPECT_EQ(error_id([] { spec_from_hf_config(json::parse(R"({"model_type": "bert"})"), "c"); }), "spec.103");
  EXPECT_EQ(error_id([] { spec_from_hf_config(json::array(), "c"); }), "spec.101");
  EXPECT_EQ(error_id([] {
              spec_from_hf_config(json::parse(R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
                "num_attention_heads": 4, "num_key_value_heads": 3, "intermediate_size": 8, "vocab_size": 10})"),
                                  "c");
            }),
            "spec.102");
  EXPECT_EQ(error_id([] {
              spec_from_hf_config(json::parse(R"({"model_type": "llama", "hidden_size": -64, "num_hidden_layers": 2,
                "num_attention_heads": 4, "intermediate_size": 8, "vocab_size": 10})"),
                                  "c");
            }),
            "spec.101");
  EXPECT_EQ(error_id([] { spec_from_gguf_metadata(nlohmann::ordered_json::object(), "g"); }), "spec.104");
  EXPECT_EQ(error_id([] {
              spec_from_gguf_metadata(nlohmann::ordered_json::parse(R"([{"key": "general.architecture", "type": "string", "value": "bert"}])"), "g");
            }),
            "spec.103");
}

}  // namespace
}  // namespace supra
