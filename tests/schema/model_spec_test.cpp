// ModelSpec from the configs each ecosystem ships. Expected values are the
// published shapes of real models (Llama-2-7B/70B, Llama-3-8B, Mistral-7B,
// GPT-2, Pythia), not values computed by the code under test.
#include "schema/model_spec.hpp"

#include <gtest/gtest.h>

#include "schema/error.hpp"
#include "schema/spec_fields.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

using supra::test::error_id;

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

// ---- Forward-pass fields from each architecture's real config.json ----
// The configs are the published files of the named checkpoints (trimmed of
// keys that do not describe the model); the expected values are their
// published shapes and transformers' documented defaults.

// Written back and read again, the same model (every field the tables name).
void expect_hf_round_trip(const ModelSpec& s) {
  const ModelSpec again = spec_from_hf_config(json(hf_config_from_spec(s, "float32")), "again");
  for (const auto& name : spec_field_names()) EXPECT_EQ(get_spec_field(again, name), get_spec_field(s, name)) << name;
  EXPECT_EQ(again.hf_model_type, s.hf_model_type);
}

TEST(ModelSpecForward, Gpt2) {
  // openai-community/gpt2
  const ModelSpec s = spec_from_hf_config(json::parse(R"({"activation_function": "gelu_new",
    "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1, "bos_token_id": 50256, "embd_pdrop": 0.1,
    "eos_token_id": 50256, "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
    "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024, "resid_pdrop": 0.1,
    "summary_activation": null, "summary_first_dropout": 0.1, "summary_proj_to_labels": true,
    "summary_type": "cls_index", "summary_use_proj": true, "vocab_size": 50257})"), "gpt2/config.json");
  EXPECT_EQ(s.architecture, "gpt2");
  EXPECT_EQ(s.hidden, 768u);
  EXPECT_EQ(s.ffn, 3072u);  // n_inner absent = 4 * n_embd
  EXPECT_EQ(s.heads, 12u);
  EXPECT_EQ(s.kv_heads, 12u);
  EXPECT_EQ(s.head_dim, 64u);
  EXPECT_EQ(s.context_length, 1024u);
  EXPECT_EQ(s.norm, NormKind::LayerNorm);
  EXPECT_DOUBLE_EQ(s.norm_eps, 1e-5);
  EXPECT_EQ(s.ffn_kind, FfnKind::GeluTanh);
  EXPECT_EQ(s.positions, PositionKind::Learned);
  EXPECT_EQ(s.rope_layout, RopeLayout::None);
  EXPECT_EQ(s.rotary_dim(), 0u);
  EXPECT_TRUE(s.attn_qkv_bias && s.attn_out_bias && s.mlp_bias);
  EXPECT_FALSE(s.parallel_residual);
  EXPECT_TRUE(s.tied_embeddings);
  const auto written = hf_config_from_spec(s, "float32");
  EXPECT_EQ(written["activation_function"], "gelu_new");
  EXPECT_EQ(written["n_inner"], 3072);
  EXPECT_EQ(written["architectures"][0], "GPT2LMHeadModel");
  expect_hf_round_trip(s);
  // activation_function "gelu" is the erf GELU.
  json c = json(written);
  c["activation_function"] = "gelu";
  EXPECT_EQ(spec_from_hf_config(c, "c").ffn_kind, FfnKind::Gelu);
}

TEST(ModelSpecForward, PythiaGptNeox) {
  // EleutherAI/pythia-70m
  const json pythia = json::parse(R"({"architectures": ["GPTNeoXForCausalLM"], "bos_token_id": 0, "eos_token_id": 0,
    "hidden_act": "gelu", "hidden_size": 512, "initializer_range": 0.02, "intermediate_size": 2048,
    "layer_norm_eps": 1e-05, "max_position_embeddings": 2048, "model_type": "gpt_neox", "num_attention_heads": 8,
    "num_hidden_layers": 6, "rotary_emb_base": 10000, "rotary_pct": 0.25, "tie_word_embeddings": false,
    "torch_dtype": "float16", "transformers_version": "4.24.0", "use_cache": true, "use_parallel_residual": true,
    "vocab_size": 50304})");
  const ModelSpec s = spec_from_hf_config(pythia, "pythia/config.json");
  EXPECT_EQ(s.architecture, "gpt_neox");
  EXPECT_EQ(s.head_dim, 64u);
  EXPECT_EQ(s.rotary_dim(), 16u);
  EXPECT_DOUBLE_EQ(s.rope_theta, 10000.0);
  EXPECT_TRUE(s.parallel_residual);
  EXPECT_EQ(s.ffn_kind, FfnKind::Gelu);
  EXPECT_EQ(s.norm, NormKind::LayerNorm);
  EXPECT_EQ(s.positions, PositionKind::Rope);
  EXPECT_EQ(s.rope_layout, RopeLayout::RotateHalf);
  EXPECT_TRUE(s.attn_qkv_bias && s.attn_out_bias && s.mlp_bias);
  EXPECT_FALSE(s.tied_embeddings);
  expect_hf_round_trip(s);
  json sequential = pythia;
  sequential["use_parallel_residual"] = false;
  sequential["rotary_pct"] = 1.0;
  sequential["attention_bias"] = false;
  const ModelSpec q = spec_from_hf_config(sequential, "c");
  EXPECT_FALSE(q.parallel_residual);
  EXPECT_EQ(q.rotary_dim(), 64u);
  EXPECT_FALSE(q.attn_qkv_bias || q.attn_out_bias);
  EXPECT_TRUE(q.mlp_bias);
  expect_hf_round_trip(q);
  // Absent keys take GPTNeoXConfig's defaults: parallel residual, a quarter of the head rotated.
  json bare = pythia;
  for (const char* k : {"use_parallel_residual", "rotary_pct", "rotary_emb_base"}) bare.erase(k);
  const ModelSpec d = spec_from_hf_config(bare, "c");
  EXPECT_TRUE(d.parallel_residual);
  EXPECT_EQ(d.rotary_dim(), 16u);
}

TEST(ModelSpecForward, Llama2) {
  // meta-llama/Llama-2-7b-hf
  const ModelSpec s = spec_from_hf_config(json::parse(R"({"architectures": ["LlamaForCausalLM"], "bos_token_id": 1,
    "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
    "intermediate_size": 11008, "max_position_embeddings": 4096, "model_type": "llama", "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 32, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
    "rope_scaling": null, "tie_word_embeddings": false, "torch_dtype": "float16",
    "transformers_version": "4.31.0.dev0", "use_cache": true, "vocab_size": 32000})"), "llama2/config.json");
  EXPECT_EQ(s.ffn_kind, FfnKind::SwiGLU);
  EXPECT_EQ(s.norm, NormKind::RmsNorm);
  EXPECT_DOUBLE_EQ(s.norm_eps, 1e-5);
  EXPECT_EQ(s.positions, PositionKind::Rope);
  EXPECT_EQ(s.rotary_dim(), 128u);
  EXPECT_EQ(s.rope_scaling.kind, RopeScalingKind::None);
  EXPECT_FALSE(s.attn_qkv_bias || s.attn_out_bias || s.mlp_bias || s.parallel_residual);
  EXPECT_EQ(s.context_length, 4096u);
  EXPECT_EQ(s.sliding_window, 0u);
  expect_hf_round_trip(s);
}

TEST(ModelSpecForward, Llama31WithLlama3RopeScaling) {
  // meta-llama/Llama-3.1-8B
  const json c = json::parse(R"({"architectures": ["LlamaForCausalLM"], "attention_bias": false,
    "attention_dropout": 0.0, "bos_token_id": 128000, "eos_token_id": 128001, "hidden_act": "silu",
    "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 131072,
    "mlp_bias": false, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
    "transformers_version": "4.43.0.dev0", "use_cache": true, "vocab_size": 128256})");
  const ModelSpec s = spec_from_hf_config(c, "llama31/config.json");
  EXPECT_EQ(s.rope_scaling.kind, RopeScalingKind::Llama3);
  EXPECT_DOUBLE_EQ(s.rope_scaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(s.rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(s.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(s.rope_scaling.original_max_position_embeddings, 8192u);
  EXPECT_DOUBLE_EQ(s.rope_theta, 500000.0);
  EXPECT_EQ(s.kv_heads, 8u);
  EXPECT_EQ(s.context_length, 131072u);
  const auto written = hf_config_from_spec(s, "bfloat16");
  EXPECT_EQ(written["rope_scaling"]["rope_type"], "llama3");
  EXPECT_EQ(written["rope_scaling"]["original_max_position_embeddings"], 8192);
  EXPECT_EQ(written["attention_bias"], false);
  EXPECT_EQ(written["hidden_act"], "silu");
  expect_hf_round_trip(s);
  // transformers 5 writes rope_theta and the scaling into rope_parameters.
  json v5 = c;
  v5.erase("rope_scaling");
  v5.erase("rope_theta");
  v5["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 500000.0}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                           {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  const ModelSpec s5 = spec_from_hf_config(v5, "c");
  EXPECT_DOUBLE_EQ(s5.rope_theta, 500000.0);
  EXPECT_EQ(s5.rope_scaling.kind, RopeScalingKind::Llama3);
  // Linear scaling, with the old key name "type".
  json linear = c;
  linear["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  const ModelSpec l = spec_from_hf_config(linear, "c");
  EXPECT_EQ(l.rope_scaling.kind, RopeScalingKind::Linear);
  EXPECT_DOUBLE_EQ(l.rope_scaling.factor, 2.0);
  expect_hf_round_trip(l);
}

TEST(ModelSpecForward, RopeScalingOtherThanLinearAndLlama3IsRefused) {
  json c = json::parse(R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
    "intermediate_size": 128, "vocab_size": 10})");
  for (const char* type : {"dynamic", "yarn", "longrope", "ntk"}) {
    c["rope_scaling"] = {{"rope_type", type}, {"factor", 4.0}};
    try {
      spec_from_hf_config(c, "config.json");
      ADD_FAILURE() << type;
    } catch (const Error& e) {
      EXPECT_EQ(e.id(), "spec.105");
      EXPECT_EQ(e.detail(), std::string("'rope_scaling' type '") + type + "' is not supported (supported: linear, llama3)");
      EXPECT_EQ(e.where().file, "config.json");
    }
  }
  c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};  // no low_freq_factor
  EXPECT_EQ(error_id([&] { spec_from_hf_config(c, "c"); }), "spec.101");
  c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 4.0}, {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};  // the smoothing would divide by zero
  EXPECT_EQ(error_id([&] { spec_from_hf_config(c, "c"); }), "spec.102");
  c["rope_scaling"] = "linear";
  EXPECT_EQ(error_id([&] { spec_from_hf_config(c, "c"); }), "spec.101");
  c.erase("rope_scaling");
  c["hidden_act"] = "gelu";  // a GeGLU Llama is not the SwiGLU block
  EXPECT_EQ(error_id([&] { spec_from_hf_config(c, "c"); }), "spec.105");
  EXPECT_EQ(error_id([] {
              spec_from_hf_config(json::parse(R"({"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4,
                "vocab_size": 10, "scale_attn_by_inverse_layer_idx": true})"), "c");
            }),
            "spec.105");
}

TEST(ModelSpecForward, MistralSlidingWindow) {
  // mistralai/Mistral-7B-v0.1
  json c = json::parse(R"({"architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
    "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
    "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096,
    "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0",
    "use_cache": true, "vocab_size": 32000})");
  const ModelSpec s = spec_from_hf_config(c, "mistral/config.json");
  EXPECT_EQ(s.sliding_window, 4096u);
  EXPECT_EQ(s.ffn_kind, FfnKind::SwiGLU);
  expect_hf_round_trip(s);
  // v0.2 / v0.3 say null: no window. Written back as null, not left out (absent means 4096).
  c["sliding_window"] = nullptr;
  c["rope_theta"] = 1000000.0;
  const ModelSpec v2 = spec_from_hf_config(c, "c");
  EXPECT_EQ(v2.sliding_window, 0u);
  const auto written = hf_config_from_spec(v2, "bfloat16");
  ASSERT_TRUE(written.contains("sliding_window"));
  EXPECT_TRUE(written["sliding_window"].is_null());
  expect_hf_round_trip(v2);
  // MistralConfig's defaults for absent keys: window 4096, 8 kv heads; Mistral has no bias flags.
  c.erase("sliding_window");
  c.erase("num_key_value_heads");
  c["attention_bias"] = true;
  const ModelSpec d = spec_from_hf_config(c, "c");
  EXPECT_EQ(d.sliding_window, 4096u);
  EXPECT_EQ(d.kv_heads, 8u);
  EXPECT_FALSE(d.attn_qkv_bias);
}

TEST(ModelSpecForward, Qwen2Biases) {
  // Qwen/Qwen2-0.5B
  json c = json::parse(R"({"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
    "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
    "intermediate_size": 4864, "max_position_embeddings": 131072, "max_window_layers": 24, "model_type": "qwen2",
    "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0, "sliding_window": 131072, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
    "transformers_version": "4.40.1", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936})");
  const ModelSpec s = spec_from_hf_config(c, "qwen2/config.json");
  EXPECT_EQ(s.architecture, "qwen2");
  EXPECT_TRUE(s.attn_qkv_bias);
  EXPECT_FALSE(s.attn_out_bias);
  EXPECT_FALSE(s.mlp_bias);
  EXPECT_EQ(s.head_dim, 64u);
  EXPECT_EQ(s.kv_heads, 2u);
  EXPECT_DOUBLE_EQ(s.norm_eps, 1e-6);
  EXPECT_TRUE(s.tied_embeddings);
  EXPECT_EQ(s.sliding_window, 0u);  // use_sliding_window false: the window is not used
  expect_hf_round_trip(s);
  c["use_sliding_window"] = true;
  const ModelSpec w = spec_from_hf_config(c, "c");
  EXPECT_EQ(w.sliding_window, 131072u);
  EXPECT_EQ(hf_config_from_spec(w, "")["use_sliding_window"], true);
  expect_hf_round_trip(w);
}

TEST(ModelSpecForward, HfWriterRefusesWhatTheModelTypeCannotState) {
  ModelSpec s = spec_from_hf_config(json::parse(R"({"model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 10})"), "c");
  s.attn_out_bias = true;  // Qwen2's o_proj has no bias
  EXPECT_EQ(error_id([&] { hf_config_from_spec(s, ""); }), "spec.106");
  ModelSpec l = spec_with_forward_facts("llama");
  l.hidden = 64, l.layers = 2, l.heads = 4, l.kv_heads = 4, l.head_dim = 16, l.ffn = 128, l.vocab = 10;
  EXPECT_NO_THROW(hf_config_from_spec(l, ""));
  l.attn_qkv_bias = true;  // one attention_bias key for q/k/v and o
  EXPECT_EQ(error_id([&] { hf_config_from_spec(l, ""); }), "spec.106");
  l.attn_out_bias = true;
  EXPECT_EQ(hf_config_from_spec(l, "")["attention_bias"], true);
  l.parallel_residual = true;  // no Llama config key says this
  EXPECT_EQ(error_id([&] { hf_config_from_spec(l, ""); }), "spec.106");
  l.parallel_residual = false;
  l.sliding_window = 4096;  // model_type llama has no sliding window; mistral has
  EXPECT_EQ(error_id([&] { hf_config_from_spec(l, ""); }), "spec.106");
  l.hf_model_type = "mistral";
  l.attn_qkv_bias = l.attn_out_bias = false;
  EXPECT_EQ(hf_config_from_spec(l, "")["sliding_window"], 4096);
}

TEST(ModelSpecForward, MetaParams) {
  // meta-llama/Llama-3.1-8B original/params.json
  const ModelSpec s = spec_from_meta_params(json::parse(R"({"dim": 4096, "ffn_dim_multiplier": 1.3,
    "multiple_of": 1024, "n_heads": 32, "n_kv_heads": 8, "n_layers": 32, "norm_eps": 1e-05, "rope_theta": 500000.0,
    "use_scaled_rope": true, "vocab_size": 128256})"), 0, "params.json");
  EXPECT_EQ(s.ffn, 14336u);
  EXPECT_EQ(s.ffn_kind, FfnKind::SwiGLU);
  EXPECT_EQ(s.norm, NormKind::RmsNorm);
  EXPECT_EQ(s.rope_layout, RopeLayout::Interleaved);
  EXPECT_EQ(s.rope_scaling.kind, RopeScalingKind::Llama3);
  EXPECT_DOUBLE_EQ(s.rope_scaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(s.rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(s.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(s.rope_scaling.original_max_position_embeddings, 8192u);
  const auto params = meta_params_from_spec(s);
  EXPECT_EQ(params["use_scaled_rope"], true);
  // As HF config: the same llama3 scaling.
  EXPECT_EQ(hf_config_from_spec(s, "")["rope_scaling"]["factor"], 8.0);
  ModelSpec other = s;
  other.rope_scaling.factor = 32.0;  // Llama 3.2 1B/3B: params.json cannot say so
  EXPECT_EQ(error_id([&] { meta_params_from_spec(other); }), "spec.106");
  // mistralai Mistral-7B-v0.1 params.json: explicit head_dim and FFN width, sliding window.
  const ModelSpec m = spec_from_meta_params(json::parse(R"({"dim": 4096, "n_layers": 32, "head_dim": 128,
    "hidden_dim": 14336, "n_heads": 32, "n_kv_heads": 8, "norm_eps": 1e-05, "sliding_window": 4096,
    "vocab_size": 32000})"), 0, "params.json");
  EXPECT_EQ(m.ffn, 14336u);
  EXPECT_EQ(m.head_dim, 128u);
  EXPECT_EQ(m.sliding_window, 4096u);
  const ModelSpec back = spec_from_meta_params(json(meta_params_from_spec(m)), 0, "again");
  EXPECT_EQ(back.sliding_window, 4096u);
  EXPECT_EQ(back.ffn, 14336u);
}

TEST(ModelSpecForward, OpenLm) {
  const json c = json::parse(R"({"hidden_dim": 64, "n_layers": 2, "n_heads": 4, "seq_len": 8192, "vocab_size": 10,
    "model_norm": "rms_norm", "ffn_type": "swiglu"})");
  const ModelSpec s = spec_from_open_lm_config(c, "open_lm.json");
  EXPECT_EQ(s.ffn_kind, FfnKind::SwiGLU);
  EXPECT_FALSE(s.attn_qkv_bias);
  json gelu = c;
  gelu["ffn_type"] = "gelu";
  EXPECT_EQ(error_id([&] { spec_from_open_lm_config(gelu, "c"); }), "spec.105");
  // No sliding window in open_lm: its sequences are limited to the window instead.
  ModelSpec windowed = s;
  windowed.sliding_window = 4096;
  EXPECT_EQ(open_lm_config_from_spec(windowed)["seq_len"], 4096);
  ModelSpec scaled = s;
  scaled.rope_scaling.kind = RopeScalingKind::Linear;
  scaled.rope_scaling.factor = 2.0;
  EXPECT_EQ(error_id([&] { open_lm_config_from_spec(scaled); }), "spec.106");
}

nlohmann::ordered_json gguf_kvs(const std::string& arch, const nlohmann::ordered_json& extra) {
  nlohmann::ordered_json kvs = nlohmann::ordered_json::array();
  auto put = [&](const std::string& k, const nlohmann::ordered_json& v) { kvs.push_back({{"key", k}, {"value", v}}); };
  put("general.architecture", arch);
  put(arch + ".embedding_length", 64);
  put(arch + ".block_count", 2);
  put(arch + ".feed_forward_length", 128);
  put(arch + ".attention.head_count", 4);
  put(arch + ".vocab_size", 10);
  for (const auto& [k, v] : extra.items()) put(arch + "." + k, v);
  return kvs;
}

TEST(ModelSpecForward, GgufMetadata) {
  const ModelSpec q = spec_from_gguf_metadata(gguf_kvs("qwen2", nlohmann::ordered_json::object()), "q.gguf");
  EXPECT_EQ(q.architecture, "qwen2");
  EXPECT_TRUE(q.attn_qkv_bias);
  EXPECT_EQ(q.rope_layout, RopeLayout::RotateHalf);  // gguf_qwen2: NEOX
  const ModelSpec l = spec_from_gguf_metadata(
      gguf_kvs("llama", {{"rope.scaling.type", "linear"}, {"rope.scaling.factor", 4.0}, {"attention.sliding_window", 4096}}),
      "l.gguf");
  EXPECT_EQ(l.rope_layout, RopeLayout::Interleaved);  // gguf_llama: NORM
  EXPECT_EQ(l.rope_scaling.kind, RopeScalingKind::Linear);
  EXPECT_DOUBLE_EQ(l.rope_scaling.factor, 4.0);
  EXPECT_EQ(l.sliding_window, 4096u);
  EXPECT_EQ(spec_from_gguf_metadata(gguf_kvs("llama", {{"rope.scale_linear", 2.0}}), "old.gguf").rope_scaling.factor, 2.0);
  EXPECT_EQ(spec_from_gguf_metadata(gguf_kvs("llama", {{"rope.scaling.type", "none"}}), "n.gguf").rope_scaling.kind,
            RopeScalingKind::None);
  // Partial rotary: rope.dimension_count below the head dim.
  EXPECT_EQ(spec_from_gguf_metadata(gguf_kvs("llama", {{"rope.dimension_count", 8}}), "p.gguf").rotary_dim(), 8u);
  EXPECT_EQ(error_id([] { spec_from_gguf_metadata(gguf_kvs("llama", {{"rope.scaling.type", "yarn"}}), "y.gguf"); }),
            "spec.105");
  // A table without a GGUF naming convention.
  EXPECT_EQ(error_id([] { spec_from_gguf_metadata(gguf_kvs("gpt2", nlohmann::ordered_json::object()), "g.gguf"); }),
            "spec.103");
}

}  // namespace
}  // namespace supra
