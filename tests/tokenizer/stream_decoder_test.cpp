// Decoding: byte-level, byte fallback and U+2581 pieces, the leading-space
// strip, and the streaming decoder that holds back unfinished UTF-8.
#include <gtest/gtest.h>

#include "schema/demo_model.hpp"
#include "schema/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace supra {
namespace {

// A SentencePiece-style tokenizer: <unk> <s> </s>, the 256 byte tokens (ids
// 3..258), then "▁", "▁a", "b".
Tokenizer sentencepiece() {
  nlohmann::json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    vocab[buf] = 3 + b;
  }
  vocab["\xE2\x96\x81"] = 259;
  vocab["\xE2\x96\x81" "a"] = 260;
  vocab["a"] = 261;
  vocab["b"] = 262;
  const nlohmann::json tok = {
      {"added_tokens", {{{"id", 1}, {"content", "<s>"}, {"special", true}}, {{"id", 2}, {"content", "</s>"}, {"special", true}}}},
      {"normalizer", {{"type", "Sequence"}, {"normalizers", {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}},
                                                             {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}}}}}},
      {"pre_tokenizer", nullptr},
      {"post_processor", {{"type", "TemplateProcessing"},
                          {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder", {{"type", "Sequence"}, {"decoders", {{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
                                                        {{"type", "ByteFallback"}}, {{"type", "Fuse"}},
                                                        {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
      {"model", {{"type", "BPE"}, {"byte_fallback", true}, {"unk_token", "<unk>"}, {"vocab", vocab},
                 {"merges", {"\xE2\x96\x81 a"}}}}};
  return Tokenizer::from_hf_json(tok, nlohmann::json::object(), "test");
}

uint32_t byte_id(int b) { return 3 + uint32_t(b); }

TEST(TokenizerEncode, SentencePieceSpacesBytesAndBos) {
  const Tokenizer t = sentencepiece();
  // "a b" -> "▁a▁b": "▁a" merges, "▁" "b" do not.
  EXPECT_EQ(t.encode("a b"), (std::vector<uint32_t>{1, 260, 259, 262}));
  EXPECT_EQ(t.encode("a b", {.add_special = false}), (std::vector<uint32_t>{260, 259, 262}));
  // 'é' is no token: its bytes.
  EXPECT_EQ(t.encode("\xC3\xA9", {.add_special = false}), (std::vector<uint32_t>{259, byte_id(0xC3), byte_id(0xA9)}));
  // A special token written in the text, and not.
  EXPECT_EQ(t.encode("a</s>", {.add_special = false}), (std::vector<uint32_t>{260, 2}));
  EXPECT_NE(t.encode("a</s>", {.add_special = false, .parse_special = false}), (std::vector<uint32_t>{260, 2}));
}

TEST(TokenizerDecode, SentencePiece) {
  const Tokenizer t = sentencepiece();
  const std::vector<uint32_t> ids = {1, 260, 259, 262, 259, byte_id(0xC3), byte_id(0xA9), 2};
  EXPECT_EQ(t.decode(ids), "a b \xC3\xA9");  // <s> </s> skipped, the first space stripped
  EXPECT_EQ(t.decode(ids, false), "<s> a b \xC3\xA9</s>");  // Strip only cuts a space at the very start
  const std::vector<uint32_t> cut = {260, byte_id(0xC3)};  // a character missing its last byte
  EXPECT_EQ(t.decode(cut), "a\xEF\xBF\xBD");
}

TEST(StreamDecoder, HoldsBackPartialCharacters) {
  const Tokenizer t = sentencepiece();
  StreamDecoder s(t);
  EXPECT_EQ(s.push(260), "a");  // "▁a" at the start: the space goes
  EXPECT_EQ(s.push(259), " ");
  // '😀' = F0 9F 98 80, one byte token at a time.
  EXPECT_EQ(s.push(byte_id(0xF0)), "");
  EXPECT_EQ(s.push(byte_id(0x9F)), "");
  EXPECT_EQ(s.push(byte_id(0x98)), "");
  EXPECT_EQ(s.push(byte_id(0x80)), "\xF0\x9F\x98\x80");
  // A sequence that can never finish is replaced as soon as that is known.
  EXPECT_EQ(s.push(byte_id(0xE4)), "");
  EXPECT_EQ(s.push(262), "\xEF\xBF\xBD" "b");
  EXPECT_EQ(s.push(byte_id(0xE4)), "");
  EXPECT_EQ(s.finish(), "\xEF\xBF\xBD");
}

TEST(StreamDecoder, AfterAPromptKeepsTheLeadingSpace) {
  const Tokenizer t = sentencepiece();
  StreamDecoder continuation(t, true, /*text_start=*/false);
  EXPECT_EQ(continuation.push(260), " a");
}

TEST(StreamDecoder, ConcatenationEqualsDecodeForEverySplit) {
  const Tokenizer t = sentencepiece();
  // Every byte of a mixed text as byte tokens and pieces, decoded whole and streamed.
  const std::string text = "a \xE4\xBD\xA0\xF0\x9F\x98\x80 b\xC3\xA9";
  std::vector<uint32_t> ids = t.encode(text);
  const size_t n = ids.size();
  for (size_t i = 0; i < n; ++i) {
    StreamDecoder s(t);
    std::string streamed;
    for (const uint32_t id : ids) streamed += s.push(id);
    streamed += s.finish();
    EXPECT_EQ(streamed, t.decode(ids));
    ids.insert(ids.begin() + long(i), byte_id(0x80));  // and with stray continuation bytes mixed in
  }
  EXPECT_EQ(t.decode(t.encode(text)), text);
}

TEST(TokenizerDecode, ByteLevel) {
  nlohmann::json tok = nlohmann::json::parse(demo_tokenizer_json());
  const Tokenizer t = Tokenizer::from_hf_json(tok, nlohmann::json::parse(demo_tokenizer_config_json()), "demo");
  // " the" -> "Ġt" (256) + "he" (257); BOS 258 from add_bos_token (no post-processor).
  EXPECT_EQ(t.encode("Hi the"), (std::vector<uint32_t>{258, 72, 105, 256, 257}));
  EXPECT_EQ(t.decode(std::vector<uint32_t>{258, 72, 105, 256, 257}), "Hi the");
  // Bytes 0xE4 0xBD 0xA0 ('你') as three byte-level tokens, streamed.
  StreamDecoder s(t);
  EXPECT_EQ(s.push(0xE4), "");
  EXPECT_EQ(s.push(0xBD), "");
  EXPECT_EQ(s.push(0xA0), "\xE4\xBD\xA0");
}

TEST(TokenizerErrors, InvalidTextAndIds) {
  const Tokenizer t = sentencepiece();
  try {
    t.encode("ok\xFF");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "tokenizer.301");
    EXPECT_NE(std::string(e.what()).find("byte 2"), std::string::npos) << e.what();
  }
  try {
    t.decode(std::vector<uint32_t>{260, 9999});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "tokenizer.302");
  }
}

TEST(TokenizerErrors, UnsupportedAndMalformedFiles) {
  auto error_of = [](const nlohmann::json& tok) -> std::string {
    try {
      Tokenizer::from_hf_json(tok, nlohmann::json::object(), "t.json");
    } catch (const Error& e) {
      return e.id() + " " + e.detail();
    }
    return "no error";
  };
  const nlohmann::json vocab = {{"a", 0}};
  EXPECT_EQ(error_of({{"model", {{"type", "WordPiece"}, {"vocab", vocab}}}}).substr(0, 14), "tokenizer.206 ");
  EXPECT_EQ(error_of({{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"a b"}}}}}),
            "tokenizer.202 /model/merges/0: merge of a token not in the vocabulary");
  EXPECT_EQ(error_of({{"model", {{"type", "BPE"}, {"vocab", vocab}}}, {"normalizer", {{"type", "Lowercase"}}}}),
            "tokenizer.206 /normalizer: normalizer 'Lowercase' is not supported");
  EXPECT_EQ(error_of({{"model", {{"type", "BPE"}, {"vocab", vocab}}},
                      {"pre_tokenizer", {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}}}})
                .substr(0, 14),
            "tokenizer.203 ");
}

}  // namespace
}  // namespace supra
