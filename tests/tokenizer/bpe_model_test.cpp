// The merge engine: rank order, leftmost ties, the SentencePiece score rule,
// byte fallback and unknown characters.
#include <gtest/gtest.h>

#include "schema/error.hpp"
#include "tokenizer/bpe_model.hpp"

namespace supra {
namespace {

TokenizerSpec vocabulary(std::vector<std::string> tokens) {
  TokenizerSpec s;
  s.tokens = std::move(tokens);
  s.types.assign(s.tokens.size(), TokenType::Normal);
  s.scores.assign(s.tokens.size(), 0.0f);
  return s;
}

std::vector<uint32_t> encode(const TokenizerSpec& spec, const std::string& word) {
  BpeModel model(spec);
  std::vector<uint32_t> out;
  model.encode_word(word, out);
  return out;
}

TEST(BpeMerges, LowestRankFirst) {
  // a=0 b=1 c=2 ab=3 bc=4
  TokenizerSpec s = vocabulary({"a", "b", "c", "ab", "bc"});
  s.merges = {{1, 2}, {0, 1}};  // "b c" outranks "a b"
  EXPECT_EQ(encode(s, "abc"), (std::vector<uint32_t>{0, 4}));
  s.merges = {{0, 1}, {1, 2}};
  EXPECT_EQ(encode(s, "abc"), (std::vector<uint32_t>{3, 2}));
}

TEST(BpeMerges, EqualRanksGoLeftmostFirst) {
  TokenizerSpec s = vocabulary({"a", "aa"});
  s.merges = {{0, 0}};
  EXPECT_EQ(encode(s, "aaa"), (std::vector<uint32_t>{1, 0}));
  EXPECT_EQ(encode(s, "aaaa"), (std::vector<uint32_t>{1, 1}));
}

TEST(BpeMerges, MergesBuildOnMerges) {
  TokenizerSpec s = vocabulary({"h", "e", "l", "o", "he", "ll", "hell", "hello"});
  s.merges = {{0, 1}, {2, 2}, {4, 5}, {6, 3}};
  EXPECT_EQ(encode(s, "hello"), (std::vector<uint32_t>{7}));
  EXPECT_EQ(encode(s, "hellol"), (std::vector<uint32_t>{7, 2}));
}

TEST(BpeMerges, RepeatedPairKeepsLastRankUnlessAskedForTheFirst) {
  TokenizerSpec s = vocabulary({"a", "b", "c", "ab", "bc"});
  s.merges = {{0, 1}, {1, 2}, {0, 1}};  // "a b" listed first and last
  EXPECT_EQ(encode(s, "abc"), (std::vector<uint32_t>{0, 4}));  // tokenizers: rank 2 for "a b"
  s.repeated_merge_keeps_first = true;                         // llama.cpp: rank 0
  EXPECT_EQ(encode(s, "abc"), (std::vector<uint32_t>{3, 2}));
}

TEST(BpeMerges, IgnoreMergesTakesAWholeWordToken) {
  TokenizerSpec s = vocabulary({"a", "b", "c", "ab", "abc"});
  s.merges = {{0, 1}};  // no merge makes "abc"
  EXPECT_EQ(encode(s, "abc"), (std::vector<uint32_t>{3, 2}));
  s.ignore_merges = true;
  EXPECT_EQ(encode(s, "abc"), (std::vector<uint32_t>{4}));
}

TEST(BpeMerges, MergeOfAStringThatIsNoTokenIsRefused) {
  TokenizerSpec s = vocabulary({"a", "b"});
  s.merges = {{0, 1}};
  EXPECT_THROW(BpeModel{s}, Error);
}

TEST(SentencePieceScores, HighestScoreFirstAnyPairThatIsAToken) {
  // No merge list: "bc" (score -1) beats "ab" (-2); then "abc" is a token with parts a + bc.
  TokenizerSpec s = vocabulary({"a", "b", "c", "ab", "bc", "abc"});
  s.merge_rule = MergeRule::Scores;
  s.scores = {0, 0, 0, -2, -1, -3};
  EXPECT_EQ(encode(s, "abc"), (std::vector<uint32_t>{5}));
  s.tokens[5] = "xyz";  // without "abc" the best pair stays
  EXPECT_EQ(encode(s, "abc"), (std::vector<uint32_t>{0, 4}));
}

TEST(SentencePieceScores, UnknownCharactersBecomeByteTokens) {
  std::vector<std::string> tokens = {"<unk>", "a"};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.push_back(buf);
  }
  TokenizerSpec s = vocabulary(tokens);
  s.merge_rule = MergeRule::Scores;
  s.unknown_char = UnknownChar::ByteFallback;
  // 'é' = C3 A9 -> <0xC3> <0xA9> (ids 2 + byte)
  EXPECT_EQ(encode(s, "a\xC3\xA9"), (std::vector<uint32_t>{1, 2 + 0xC3, 2 + 0xA9}));
  // Hugging Face does it before merging; same ids here.
  s.merge_rule = MergeRule::Ranks;
  EXPECT_EQ(encode(s, "a\xC3\xA9"), (std::vector<uint32_t>{1, 2 + 0xC3, 2 + 0xA9}));
}

TEST(BpeUnknown, UnkFusedOrNotAndDropped) {
  TokenizerSpec s = vocabulary({"<unk>", "a"});
  s.unk_id = 0;
  EXPECT_EQ(encode(s, "a\xC3\xA9\xC3\xA9" "a"), (std::vector<uint32_t>{1, 0, 0, 1}));
  s.fuse_unk = true;
  EXPECT_EQ(encode(s, "a\xC3\xA9\xC3\xA9" "a"), (std::vector<uint32_t>{1, 0, 1}));
}

TEST(BpeUnknown, DroppedBeforeOrAfterMerging) {
  TokenizerSpec s = vocabulary({"a", "aa"});
  s.merges = {{0, 0}};
  // No unk token: tokenizers drops the character first, so the a's around it meet and merge.
  EXPECT_EQ(encode(s, "a\xC3\xA9" "a"), (std::vector<uint32_t>{1}));
  // llama.cpp's BPE keeps it as a symbol that merges with nothing, and drops it at the end.
  s.unknown_char = UnknownChar::Drop;
  EXPECT_EQ(encode(s, "a\xC3\xA9" "a"), (std::vector<uint32_t>{0, 0}));
}

}  // namespace
}  // namespace supra
