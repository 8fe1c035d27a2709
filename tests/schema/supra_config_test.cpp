// SUPRA sections of ModelSpec from the two configs of the authors' code: the
// trainer's open_lm JSON (their published mistral_7b_linear.json) and the HF
// openlm wrapper's config.json; written back and read again.
#include "schema/supra_config.hpp"

#include <gtest/gtest.h>

#include "schema/error.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

using supra::test::error_id;

// open_lm/model_configs/mistral_7b_linear.json (TRI-ML/linear_open_lm).
const char* kMistral7bLinear = R"({"hidden_dim": 4096, "intermediate_dim_ffn": 14336, "n_layers": 32, "n_heads": 32,
  "n_heads_kv": 8, "seq_len": 2048, "vocab_size": 32000, "post_embed_norm": false, "weight_tying": false,
  "qk_norm": false, "qk_head_dim": 128, "v_head_dim": 128, "model_norm": "rms_norm",
  "positional_embedding_type": "rotary", "ffn_type": "swiglu", "attn_name": "linear_attn", "use_decay": true,
  "use_retnet_slopes": false, "decay_start": null})";

TEST(SupraConfig, AuthorsMistral7bLinear) {
  const ModelSpec s = spec_from_open_lm_config(json::parse(kMistral7bLinear), "mistral_7b_linear.json");
  EXPECT_EQ(s.architecture, "supra");
  ASSERT_TRUE(s.supra);
  EXPECT_EQ(s.supra->qk_dim, 128u);
  EXPECT_EQ(s.supra->decay, SupraDecay::Lightning);
  EXPECT_FALSE(s.supra->decay_start);
  EXPECT_FALSE(s.supra->qk_norm);
  EXPECT_EQ(s.supra->linear_layers, std::vector<bool>(32, true));
  EXPECT_EQ(s.symbol("feature_q"), 4096u);
  EXPECT_EQ(s.symbol("feature_k"), 1024u);
  // Back to both dialects and read again: the same model.
  const ModelSpec again = spec_from_open_lm_config(json(open_lm_config_from_spec(s)), "again");
  EXPECT_EQ(again.supra->qk_dim, 128u);
  EXPECT_EQ(again.supra->decay, SupraDecay::Lightning);
  const json hf = json(hf_config_from_spec(s, "bfloat16"));
  EXPECT_EQ(hf["model_type"], "openlm");
  EXPECT_EQ(hf["dim"], 4096);
  EXPECT_EQ(hf["apply_qk_norm"], false);
  EXPECT_EQ(hf["norm_type"], "rms_norm");
  const ModelSpec from_hf = spec_from_hf_config(hf, "config.json");
  EXPECT_EQ(from_hf.architecture, "supra");
  EXPECT_EQ(from_hf.kv_heads, 8u);
  EXPECT_EQ(from_hf.ffn, 14336u);
  EXPECT_EQ(from_hf.supra->linear_layers, s.supra->linear_layers);
}

TEST(SupraConfig, DecayKindsHybridAndRefusals) {
  json c = json::parse(kMistral7bLinear);
  c["use_retnet_slopes"] = true;
  c["decay_start"] = 0.5;  // ignored by get_slope_tensor for RetNet slopes
  ModelSpec s = spec_from_open_lm_config(c, "c");
  EXPECT_EQ(s.supra->decay, SupraDecay::Retnet);
  EXPECT_FALSE(s.supra->decay_start);
  c["use_decay"] = false;
  EXPECT_EQ(spec_from_open_lm_config(c, "c").supra->decay, SupraDecay::None);
  c.erase("attn_name");
  EXPECT_FALSE(spec_from_open_lm_config(c, "c").supra);  // a softmax open_lm model

  s = spec_from_open_lm_config(json::parse(kMistral7bLinear), "c");
  s.supra->linear_layers[3] = false;
  EXPECT_EQ(error_id([&] { open_lm_config_from_spec(s); }), "spec.106");
  const json hf = json(hf_config_from_spec(s, ""));
  EXPECT_EQ(hf[kSupraSoftmaxLayersKey], json::array({3}));
  EXPECT_FALSE(spec_from_hf_config(hf, "config.json").supra->linear_layers[3]);

  json bad = json::parse(kMistral7bLinear);
  bad["qk_head_dim"] = 64;  // rotary needs the RoPE table's width
  EXPECT_EQ(error_id([&] { spec_from_open_lm_config(bad, "c"); }), "spec.102");
  bad = json::parse(kMistral7bLinear);
  bad["n_heads"] = 24, bad["n_heads_kv"] = 8, bad["hidden_dim"] = 3072, bad["qk_head_dim"] = 128, bad["v_head_dim"] = 128;
  EXPECT_EQ(error_id([&] { spec_from_open_lm_config(bad, "c"); }), "spec.105");  // lightning, 24 heads
  bad = json::parse(kMistral7bLinear);
  bad["rotary_scale"] = 2.0;
  EXPECT_EQ(error_id([&] { spec_from_open_lm_config(bad, "c"); }), "spec.105");
  json hf_bad = hf;
  hf_bad.erase("norm_type");
  EXPECT_EQ(error_id([&] { spec_from_hf_config(hf_bad, "config.json"); }), "spec.101");
  hf_bad = hf;
  hf_bad["attn_name"] = "torch_attn";
  EXPECT_EQ(error_id([&] { spec_from_hf_config(hf_bad, "config.json"); }), "spec.105");
}

}  // namespace
}  // namespace supra
