// HF tokenizer.json -> tokenizer.ggml.* keys. The loadability by llama.cpp
// itself is proven by tests/interop/test_llamacpp.py; here: the mapping rules.
#include "converters/tokenizer/hf_tokenizer_to_gguf.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "schema/demo_model.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using json = nlohmann::ordered_json;

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

const json& find_kv(const json& kvs, const std::string& key) {
  for (const auto& kv : kvs)
    if (kv["key"] == key) return kv;
  throw std::runtime_error("missing key " + key);
}

bool has_kv(const json& kvs, const std::string& key) {
  for (const auto& kv : kvs)
    if (kv["key"] == key) return true;
  return false;
}

TEST(HfTokenizerToGguf, ByteLevelBpeBecomesGpt2Vocabulary) {
  test::TempDir dir;
  write_text(dir / "tokenizer.json", demo_tokenizer_json());
  write_text(dir / "tokenizer_config.json", demo_tokenizer_config_json());
  const json source = json::parse(demo_tokenizer_json());
  const json kvs = hf_tokenizer_to_gguf_kvs(dir.path(), 262);  // 2 ids beyond the tokenizer: padding

  EXPECT_EQ(find_kv(kvs, "tokenizer.ggml.model")["value"], "gpt2");
  EXPECT_EQ(find_kv(kvs, "tokenizer.ggml.pre")["value"], "gpt-2");  // GPT-2's split regex, as ByteLevel's
  const json& tokens = find_kv(kvs, "tokenizer.ggml.tokens");
  EXPECT_EQ(tokens["element_type"], "string");
  ASSERT_EQ(tokens["value"].size(), 262u);
  // Every vocabulary entry sits at its id.
  for (const auto& [text, id] : source["model"]["vocab"].items()) EXPECT_EQ(tokens["value"][id.get<size_t>()], text);
  EXPECT_EQ(tokens["value"][258], "<|bos|>");
  EXPECT_EQ(tokens["value"][261], "[PAD261]");
  const json& types = find_kv(kvs, "tokenizer.ggml.token_type")["value"];
  EXPECT_EQ(types[65], 1);   // normal
  EXPECT_EQ(types[258], 3);  // control (special added token)
  EXPECT_EQ(types[261], 5);  // unused padding
  const json& merges = find_kv(kvs, "tokenizer.ggml.merges")["value"];
  EXPECT_EQ(merges, source["model"]["merges"]);
  EXPECT_EQ(find_kv(kvs, "tokenizer.ggml.bos_token_id")["value"], 258);
  EXPECT_EQ(find_kv(kvs, "tokenizer.ggml.bos_token_id")["type"], "u32");
  EXPECT_EQ(find_kv(kvs, "tokenizer.ggml.eos_token_id")["value"], 259);
  EXPECT_EQ(find_kv(kvs, "tokenizer.ggml.add_bos_token")["value"], true);
  EXPECT_FALSE(has_kv(kvs, "tokenizer.ggml.scores"));
}

TEST(HfTokenizerToGguf, ByteFallbackBpeBecomesLlamaVocabulary) {
  test::TempDir dir;
  json tok = {{"model",
               {{"type", "BPE"},
                {"byte_fallback", true},
                {"vocab", {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}, {"<0x0A>", 3}, {"\xe2\x96\x81the", 4}}},
                {"merges", json::array()}}},
              {"added_tokens",
               {{{"id", 0}, {"content", "<unk>"}, {"special", true}},
                {{"id", 1}, {"content", "<s>"}, {"special", true}},
                {{"id", 2}, {"content", "</s>"}, {"special", true}}}}};
  write_text(dir / "tokenizer.json", tok.dump());
  write_text(dir / "tokenizer_config.json",
             json{{"bos_token", {{"content", "<s>"}}}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}}.dump());
  const json kvs = hf_tokenizer_to_gguf_kvs(dir.path(), 5);
  EXPECT_EQ(find_kv(kvs, "tokenizer.ggml.model")["value"], "llama");
  EXPECT_EQ(find_kv(kvs, "tokenizer.ggml.token_type")["value"], json({3, 3, 3, 6, 1}));
  EXPECT_EQ(find_kv(kvs, "tokenizer.ggml.scores")["value"], json({-0.0, -1.0, -2.0, -3.0, -4.0}));
  EXPECT_EQ(find_kv(kvs, "tokenizer.ggml.bos_token_id")["value"], 1);
  EXPECT_EQ(find_kv(kvs, "tokenizer.ggml.unknown_token_id")["value"], 0);
  EXPECT_FALSE(has_kv(kvs, "tokenizer.ggml.merges"));
}

TEST(HfTokenizerToGguf, MalformedTokenizersAreRefusedWithIds) {
  test::TempDir dir;
  auto expect_id = [&](const std::string& text, uint64_t vocab, const std::string& id) {
    write_text(dir / "tokenizer.json", text);
    try {
      hf_tokenizer_to_gguf_kvs(dir.path(), vocab);
      ADD_FAILURE() << "expected " << id;
    } catch (const Error& e) {
      EXPECT_EQ(e.id(), id) << e.what();
      EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos);
    }
  };
  expect_id("{not json", 4, "tokenizer.101");
  expect_id(R"({"version":"1.0"})", 4, "tokenizer.102");
  expect_id(R"({"model":{"type":"BPE","vocab":[1,2]}})", 4, "tokenizer.103");
  expect_id(R"({"model":{"type":"BPE","vocab":{"a":-1}}})", 4, "tokenizer.104");
  expect_id(R"({"model":{"type":"Mystery"}})", 4, "tokenizer.105");
  expect_id(R"({"model":{"type":"BPE","vocab":{"a":0}},"added_tokens":[{"content":"x"}]})", 4, "tokenizer.106");
  expect_id(R"({"model":{"type":"BPE","vocab":{"a":9}}})", 4, "tokenizer.107");
}

}  // namespace
}  // namespace supra
