// Token inputs: JSON arrays and lists of arrays, .npy of integers, inline
// JSON, seeded random ids, and clear errors for everything else.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <random>

#include "converters/format.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"
#include "validate/inputs.hpp"

namespace supra::validate {
namespace {

void write_text(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

using supra::test::error_id;

TEST(Tokens, JsonArrayAndListOfArrays) {
  test::TempDir dir;
  write_text(dir / "one.json", "[1, 2, 3]");
  const TokenBatch one = read_tokens((dir / "one.json").string());
  EXPECT_FALSE(one.batched);
  EXPECT_EQ(one.sequences, (std::vector<std::vector<uint32_t>>{{1, 2, 3}}));
  write_text(dir / "two.json", "[[1, 2], [3, 4]]");
  const TokenBatch two = read_tokens((dir / "two.json").string());
  EXPECT_TRUE(two.batched);
  EXPECT_EQ(two.sequences, (std::vector<std::vector<uint32_t>>{{1, 2}, {3, 4}}));
  EXPECT_EQ(read_tokens("[7, 8]").sequences[0], (std::vector<uint32_t>{7, 8}));
}

TEST(Tokens, TokenizeJsonOutputGivesItsIds) {
  test::TempDir dir;
  write_text(dir / "prompt.json", R"({"ids": [258, 104, 105], "pieces": ["<|bos|>", "h", "i"]})");
  EXPECT_EQ(read_tokens((dir / "prompt.json").string()).sequences, (std::vector<std::vector<uint32_t>>{{258, 104, 105}}));
  write_text(dir / "other.json", R"({"tokens": [1, 2]})");
  EXPECT_EQ(error_id([&] { read_tokens((dir / "other.json").string()); }), "tokens.101");
}

TEST(Tokens, RefusesWhatIsNotAnEqualLengthListOfIds) {
  test::TempDir dir;
  auto id_for = [&](const std::string& text) {
    write_text(dir / "t.json", text);
    return error_id([&] { read_tokens((dir / "t.json").string()); });
  };
  EXPECT_EQ(id_for("[[1, 2], [3]]"), "tokens.104");
  EXPECT_EQ(id_for("[1, -2]"), "tokens.102");
  EXPECT_EQ(id_for("[1, 2.5]"), "tokens.102");
  EXPECT_EQ(id_for("[1, 4294967296]"), "tokens.102");
  EXPECT_EQ(id_for("[]"), "tokens.103");
  EXPECT_EQ(id_for("{\"input_ids\": [1]}"), "tokens.101");
  EXPECT_EQ(id_for("[1, 2"), "tokens.101");
  EXPECT_EQ(error_id([&] { read_tokens((dir / "missing.json").string()); }), "tokens.100");
}

TEST(Tokens, NpyOfIntegersOneAndTwoDimensional) {
  test::TempDir dir;
  Checkpoint c;
  c.tensors.push_back(test::make_tensor_from_floats("ids", DType::F32, {2}, {1.0f, 2.0f}));
  const std::vector<int64_t> ids = {5, 6, 7, 8, 9, 10};
  std::vector<std::byte> bytes(ids.size() * 8);
  std::memcpy(bytes.data(), ids.data(), bytes.size());
  Checkpoint two_d;
  two_d.tensors.push_back(std::make_shared<MemoryTensorSource>(TensorInfo{"ids", DType::I64, {2, 3}}, bytes));
  write_checkpoint(*find_format("numpy"), two_d, dir / "ids.npy", {});
  const TokenBatch b = read_tokens((dir / "ids.npy").string());
  EXPECT_TRUE(b.batched);
  EXPECT_EQ(b.sequences, (std::vector<std::vector<uint32_t>>{{5, 6, 7}, {8, 9, 10}}));
  Checkpoint one_d;
  one_d.tensors.push_back(std::make_shared<MemoryTensorSource>(TensorInfo{"ids", DType::I64, {6}}, bytes));
  write_checkpoint(*find_format("numpy"), one_d, dir / "flat.npy", {});
  EXPECT_FALSE(read_tokens((dir / "flat.npy").string()).batched);
  write_checkpoint(*find_format("numpy"), c, dir / "floats.npy", {});
  EXPECT_EQ(error_id([&] { read_tokens((dir / "floats.npy").string()); }), "tokens.106");
}

TEST(Tokens, RandomIdsAreSeededAndInRange) {
  const TokenBatch a = random_tokens(100, 3, 260), b = random_tokens(100, 3, 260), c = random_tokens(100, 4, 260);
  EXPECT_EQ(a.sequences, b.sequences);
  EXPECT_NE(a.sequences, c.sequences);
  std::mt19937_64 rng(3);
  for (uint32_t id : a.sequences[0]) EXPECT_EQ(id, rng() % 260);
  EXPECT_NE(a.source.find("seed 3"), std::string::npos);
}

TEST(Tokens, RangeCheckNamesIdSequenceAndPosition) {
  TokenBatch b;
  b.sequences = {{1, 2}, {3, 260}};
  b.batched = true;
  b.source = "x.json";
  try {
    check_token_range(b, 260);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "tokens.105");
    EXPECT_NE(std::string(e.what()).find("token id 260 at position 1 of sequence 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace supra::validate
