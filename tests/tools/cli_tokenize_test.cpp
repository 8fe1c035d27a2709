// `supra tokenize` / `supra detokenize` through the built binary: ids of the
// demo tokenizer (byte-level BPE: " the" is "Ġt" + "he"), the flags, exit
// codes and one-line errors for bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/test_util.hpp"

namespace supra {
namespace {

using test::run_supra;

class CliTokenize : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(run_supra({"demo-model", (dir / "demo").string()}).exit_code, 0); }
  std::string model() const { return (dir / "demo").string(); }
  test::TempDir dir;
};

TEST_F(CliTokenize, JsonIdsAndFlags) {
  auto r = run_supra({"tokenize", model(), "--prompt", "Hi the<|eos|>", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  // BOS 258 (add_bos_token), H i, "Ġt" "he", <|eos|> 259 read as the special token.
  EXPECT_EQ(j["ids"], nlohmann::json({258, 72, 105, 256, 257, 259}));
  EXPECT_EQ(j["pieces"][3], "\xC4\xA0t");
  r = run_supra({"tokenize", model(), "--prompt", "Hi the<|eos|>", "--json", "--no-add-special"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["ids"], nlohmann::json({72, 105, 256, 257, 259}));
  r = run_supra({"tokenize", model(), "--prompt", "a<|eos|>", "--json", "--no-special"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["ids"], nlohmann::json({97, 60, 124, 101, 111, 115, 124, 62}));
}

TEST_F(CliTokenize, DetokenizeRoundTripAndForms) {
  auto r = run_supra({"detokenize", model(), "--ids", "[258, 72, 105, 256, 257]"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hi the");
  r = run_supra({"detokenize", model(), "--ids", "258 72 105", "--keep-special"});
  EXPECT_EQ(r.out, "<|bos|>Hi");
  r = run_supra({"detokenize", model(), "--ids", "[[72], [105, 256]]"});
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json({"H", "i t"}));
}

TEST_F(CliTokenize, BatchAndTextFile) {
  const auto strings = dir / "strings.json";
  std::ofstream(strings) << R"(["Hi", "", "the"])";
  auto r = run_supra({"tokenize", model(), "--batch", strings.string(), "--no-add-special"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[2]["ids"], nlohmann::json({116, 257}));
  const auto text = dir / "text.txt";
  std::ofstream(text, std::ios::binary) << "line\n";
  r = run_supra({"tokenize", model(), "--text", text.string(), "--json", "--no-add-special"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["ids"], nlohmann::json({108, 105, 110, 101, 10}));
}

TEST_F(CliTokenize, BadInputIsOneLineAndExitCode) {
  const auto text = dir / "bad.txt";
  std::ofstream(text, std::ios::binary) << "ok\xFF";
  auto r = run_supra({"tokenize", model(), "--text", text.string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "[tokenizer.301] text is not valid UTF-8 at byte 2\n");
  r = run_supra({"detokenize", model(), "--ids", "[1, 99999]"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("[tokenizer.302]"), std::string::npos) << r.err;
  r = run_supra({"tokenize", model()});
  EXPECT_EQ(r.exit_code, 2);
  r = run_supra({"detokenize", model(), "--ids", "[1, x]"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_supra({"tokenize", dir.path().string(), "--prompt", "x"});  // a folder without tokenizer.json
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("[tokenizer.200]"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace supra
