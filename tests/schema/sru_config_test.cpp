// sru_config.json strictness and the key -> shape table (schema/sru/).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "schema/error.hpp"
#include "schema/sru/config.hpp"
#include "schema/sru/tensor_table.hpp"

namespace supra::sru {
namespace {

using json = nlohmann::ordered_json;

// The enwik8 base model of sru.md section 6 (train_enwik8.py defaults).
json enwik8_base() {
  json kw = json::parse(constructor_arguments(Kind::Srupp));
  kw["input_size"] = kw["hidden_size"] = 3072;
  kw["proj_size"] = 768;
  kw["num_layers"] = 10;
  return json{{"kind", "srupp"}, {"rnn_kwargs", kw}, {"lm", {{"vocab_size", 205}, {"emb_dim", 3072}}}};
}

std::string error_of(const json& j) {
  try {
    parse_config(j.dump(), "c.json");
  } catch (const Error& e) {
    return e.id() + " " + e.what();
  }
  return "";
}

TEST(SruConfig, Enwik8BaseHas93KeysAnd107_57MValues) {
  const Config c = parse_config(enwik8_base().dump(), "c.json");
  const auto t = expected_tensors(c);
  uint64_t values = 0;
  for (const auto& e : t) {
    uint64_t n = 1;
    for (uint64_t d : e.shape) n *= d;
    values += n;
  }
  EXPECT_EQ(t.size(), 93u);
  // 10 x (2 x 6144 + 2 + 768*3072 + 1536*768 + 9216*768 + 2 x 768) + 2 x 205*3072 + 205: "108M" (sru.md 6)
  EXPECT_EQ(values, 107566305u);
  EXPECT_EQ(t.front().key, "embedding_layer.weight");
  EXPECT_EQ(t[7].key, "rnn.rnn_lst.0.transform_module.linear3.weight");
  EXPECT_EQ(t[7].shape, (std::vector<uint64_t>{9216, 768}));
  EXPECT_EQ(t.back().key, "output_layer.bias");
}

TEST(SruConfig, EveryConstructorArgumentIsRequiredByName) {
  const json base = enwik8_base();  // named: a temporary would die before the loop runs
  for (const auto& [field, value] : base["rnn_kwargs"].items()) {
    json j = enwik8_base();
    j["rnn_kwargs"].erase(field);
    const std::string e = error_of(j);
    EXPECT_NE(e.find("sru.103"), std::string::npos) << field;
    EXPECT_NE(e.find("'" + field + "'"), std::string::npos) << e;
  }
  json j = enwik8_base();
  j.erase("lm");
  EXPECT_NE(error_of(j).find("'lm'"), std::string::npos);
}

TEST(SruConfig, UnknownFieldsAndContradictionsAreRefused) {
  json j = enwik8_base();
  j["rnn_kwargs"]["use_rezero"] = false;
  EXPECT_NE(error_of(j).find("unknown field 'use_rezero'"), std::string::npos);
  j = enwik8_base();
  j["rnn_kwargs"]["attention_every_n_layers"] = 2;
  j["rnn_kwargs"]["attention_last_n_layers"] = 3;
  EXPECT_NE(error_of(j).find("sru.106"), std::string::npos);
  j = enwik8_base();
  j["rnn_kwargs"]["num_heads"] = 5;  // does not divide 768
  EXPECT_NE(error_of(j).find("num_heads"), std::string::npos);
  j = enwik8_base();
  j["rnn_kwargs"]["bidirectional"] = "no";
  EXPECT_NE(error_of(j).find("/rnn_kwargs/bidirectional"), std::string::npos);
}

TEST(SruConfig, AttentionLayersFollowTheAuthorsRule) {
  json j = enwik8_base();
  j["rnn_kwargs"]["attention_every_n_layers"] = 5;
  Config c = parse_config(j.dump(), "c.json");
  std::vector<uint64_t> with;
  for (uint64_t l = 0; l < 10; ++l)
    if (c.layer_has_attention(l)) with.push_back(l);
  EXPECT_EQ(with, (std::vector<uint64_t>{4, 9}));
  j = enwik8_base();
  j["rnn_kwargs"]["attention_last_n_layers"] = 2;
  c = parse_config(j.dump(), "c.json");
  EXPECT_FALSE(c.layer_has_attention(7));
  EXPECT_TRUE(c.layer_has_attention(8));
  EXPECT_TRUE(c.layer_has_attention(9));
}

TEST(SruConfig, KIsFourOnlyWhenTheInputWidthDiffers) {
  json j = enwik8_base();
  j["rnn_kwargs"]["input_size"] = 100;
  j["lm"] = nullptr;
  const Config c = parse_config(j.dump(), "c.json");
  EXPECT_EQ(c.layer_k(0), 4u);
  EXPECT_EQ(c.layer_k(1), 3u);
}

TEST(SruConfig, AdaptiveSoftmaxKeysAreRefusedByName) {
  const Config c = parse_config(enwik8_base().dump(), "c.json");
  Checkpoint ck;
  ck.tensors.push_back(std::make_shared<MemoryTensorSource>(
      TensorInfo{"output_layer.out_layers.0.weight", DType::F32, {2}}, std::vector<std::byte>(8)));
  try {
    check_checkpoint(ck, c, "m.pt");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "sru.202");
    EXPECT_EQ(e.where().tensor, "output_layer.out_layers.0.weight");
  }
}

TEST(SruConfig, OldLayerNormMeaningGetsAHint) {
  json small = enwik8_base();
  small["rnn_kwargs"]["input_size"] = small["rnn_kwargs"]["hidden_size"] = small["lm"]["emb_dim"] = 8;
  small["rnn_kwargs"]["proj_size"] = 4;
  small["rnn_kwargs"]["num_layers"] = 2;
  json j = small;
  j["rnn_kwargs"]["layer_norm"] = true;  // today: a cell pre-LN the old checkpoints do not have
  const Config on = parse_config(j.dump(), "c.json");
  const Config off = parse_config(small.dump(), "c.json");
  Checkpoint ck;
  for (const auto& e : expected_tensors(off)) {
    uint64_t n = 1;
    for (uint64_t d : e.shape) n *= d;
    ck.tensors.push_back(std::make_shared<MemoryTensorSource>(TensorInfo{e.key, DType::F32, e.shape},
                                                              std::vector<std::byte>(n * 4)));
  }
  EXPECT_NO_THROW(check_checkpoint(ck, off, "m.pt"));
  try {
    check_checkpoint(ck, on, "m.pt");
    FAIL() << "accepted";
  } catch (const Error& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("missing keys (4)"), std::string::npos) << w;
    EXPECT_NE(w.find("attn_layer_norm=true"), std::string::npos) << w;
  }
}

}  // namespace
}  // namespace supra::sru
