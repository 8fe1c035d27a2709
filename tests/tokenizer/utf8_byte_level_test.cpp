// UTF-8 helpers and GPT-2's byte <-> character map.
#include <gtest/gtest.h>

#include "schema/demo_model.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/utf8.hpp"

namespace supra {
namespace {

std::string cp(char32_t c) {
  std::string s;
  append_utf8(s, c);
  return s;
}

TEST(ByteLevelMap, KnownCharacters) {
  const auto& chars = byte_level_chars();
  EXPECT_EQ(chars[' '], cp(0x120));   // 'Ġ'
  EXPECT_EQ(chars['\n'], cp(0x10A));  // 'Ċ'
  EXPECT_EQ(chars[0], cp(0x100));
  EXPECT_EQ(chars[0x7F], cp(0x121));  // after the 33 control characters and space
  EXPECT_EQ(chars[0xAD], cp(0x143));  // soft hyphen: the last byte that moves
  EXPECT_EQ(chars['A'], "A");
  EXPECT_EQ(chars[0xE9], cp(0xE9));   // printable Latin-1 stands for itself
}

TEST(ByteLevelMap, MatchesTheDemoVocabulary) {
  // The demo tokenizer.json writes the 256 byte tokens with its own copy of the map (ids = bytes).
  const auto tok = nlohmann::json::parse(demo_tokenizer_json());
  for (int b = 0; b < 256; ++b) {
    const std::string& c = byte_level_chars()[b];
    ASSERT_TRUE(tok["model"]["vocab"].contains(c)) << b;
    EXPECT_EQ(tok["model"]["vocab"][c].get<int>(), b);
  }
}

TEST(ByteLevelMap, RoundTripsEveryByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += char(b);
  const std::string mapped = to_byte_level(all);
  EXPECT_EQ(from_byte_level(mapped), all);
  EXPECT_EQ(from_byte_level("\xE4\xBD\xA0"), std::nullopt);  // '你' is not in the map
}

TEST(Utf8, InvalidOffsets) {
  EXPECT_EQ(invalid_utf8_offset("abc"), std::string_view::npos);
  EXPECT_EQ(invalid_utf8_offset("ab\xFF"), 2u);
  EXPECT_EQ(invalid_utf8_offset("\xC0\x80"), 0u);       // overlong NUL
  EXPECT_EQ(invalid_utf8_offset("x\xED\xA0\x80"), 1u);  // a surrogate
  EXPECT_EQ(invalid_utf8_offset("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(invalid_utf8_offset("\xE4\xBD"), 0u);       // cut short
  EXPECT_EQ(invalid_utf8_offset("\xF0\x9F\x98\x80"), std::string_view::npos);
}

TEST(Utf8, LossyReplacesMaximalSubparts) {
  // Unicode's "maximal subpart" rule, as String::from_utf8_lossy and TextDecoder apply it.
  EXPECT_EQ(utf8_lossy("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8_lossy("\xE4\xBD" "x"), "\xEF\xBF\xBD" "x");  // one U+FFFD for the unfinished pair
  EXPECT_EQ(utf8_lossy("\xF0\x9F\x98"), "\xEF\xBF\xBD");
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // ED A0 is never valid
  EXPECT_EQ(utf8_lossy("\xC3\xA9"), "\xC3\xA9");
}

TEST(Utf8, UnfinishedTail) {
  EXPECT_EQ(unfinished_utf8_tail(""), 0u);
  EXPECT_EQ(unfinished_utf8_tail("abc"), 0u);
  EXPECT_EQ(unfinished_utf8_tail("a\xE4"), 1u);
  EXPECT_EQ(unfinished_utf8_tail("a\xE4\xBD"), 2u);
  EXPECT_EQ(unfinished_utf8_tail("a\xE4\xBD\xA0"), 0u);   // complete
  EXPECT_EQ(unfinished_utf8_tail("\xF0\x9F\x98"), 3u);
  EXPECT_EQ(unfinished_utf8_tail("a\xBD"), 0u);           // a stray continuation byte never completes
  EXPECT_EQ(unfinished_utf8_tail("a\xE0\x80"), 0u);       // E0 80 is overlong: never completes
}

}  // namespace
}  // namespace supra
