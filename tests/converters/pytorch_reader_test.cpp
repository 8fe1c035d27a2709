// The PyTorch reader against files written by torch.save (Debian's torch
// 1.13, tools/fixtures/make_pytorch_fixtures.py): values must match what
// torch itself reads (NAME.expected.json), bit for bit.
#include "converters/pytorch/pytorch_reader.hpp"

#include <gtest/gtest.h>

#include "schema/error.hpp"
#include "tests/converters/torch_numpy_expectations.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using test::expect_matches;
using test::fixture_path;

Checkpoint read(const std::string& name, ReadOptions options = {}) {
  return read_pytorch(fixture_path("pytorch/" + name), options);
}

// Runs `f` and returns the error id it throws ("" if none).
template <typename F>
std::string error_id(F f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.id();
  }
  return "";
}

TEST(PytorchReader, EveryDtypeScalarAndEmptyMatchTorch) { expect_matches(read("basic.pt"), "pytorch/basic.expected.json"); }

TEST(PytorchReader, ContiguousStoredTensorsAreZeroCopyViews) {
  Checkpoint c = read("basic.pt");
  const TensorSource* f32 = c.find("f32");
  ASSERT_NE(f32, nullptr);
  auto span = f32->file_span();
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->offset % 64, 0u);  // torch aligns storages to 64 bytes
}

TEST(PytorchReader, TiedWeightsBothComeOut) { expect_matches(read("tied.pt"), "pytorch/tied.expected.json"); }

TEST(PytorchReader, ViewsWithOffsetTransposedAndStridedAreGathered) {
  Checkpoint c = read("views.pt");
  expect_matches(c, "pytorch/views.expected.json");
  EXPECT_TRUE(c.find("offset")->file_span().has_value());       // contiguous view with an offset
  EXPECT_FALSE(c.find("transposed")->file_span().has_value());  // gathered
}

TEST(PytorchReader, PartialReadsOfAGatheredTensorMatchTheWhole) {
  Checkpoint c = read("views.pt");
  const TensorSource& t = *c.find("col");
  const auto all = t.read_all();
  for (uint64_t start = 0; start < all.size(); start += 4)
    for (uint64_t len = 4; start + len <= all.size(); len += 12) {
      std::vector<std::byte> part(len);
      t.read(start, part);
      ASSERT_TRUE(std::equal(part.begin(), part.end(), all.begin() + start)) << start << "+" << len;
    }
}

TEST(PytorchReader, TrainingCheckpointFindsStateDictAndStripsModulePrefix) {
  ReadOptions o;
  o.strip_module_prefix = true;
  Checkpoint c = read("nested.pt", o);
  expect_matches(c, "pytorch/nested.expected.json");
  EXPECT_EQ(c.metadata.at("pytorch.key"), "state_dict");
  EXPECT_NE(c.metadata.at("pytorch.skipped").find("epoch (int)"), std::string::npos);
  EXPECT_NE(c.metadata.at("pytorch.skipped").find("optimizer (dict)"), std::string::npos);
}

TEST(PytorchReader, WithoutStripTheModulePrefixStays) {
  Checkpoint c = read("nested.pt");
  EXPECT_NE(c.find("module.layer.weight"), nullptr);
}

TEST(PytorchReader, ExplicitKeyAndMissingKey) {
  ReadOptions o;
  o.key = "state_dict";
  EXPECT_EQ(read("nested.pt", o).tensors.size(), 2u);
  o.key = "nope";
  std::string msg;
  EXPECT_EQ(error_id([&] { read("nested.pt", o); }, &msg), "pytorch.301");
  EXPECT_NE(msg.find("state_dict"), std::string::npos) << msg;  // lists the keys there are
}

TEST(PytorchReader, NestedDictsFlattenWithDots) { expect_matches(read("deep.pt"), "pytorch/deep.expected.json"); }

TEST(PytorchReader, ParametersAndTorchCompilePrefix) {
  ReadOptions o;
  o.strip_module_prefix = true;
  expect_matches(read("params.pt", o), "pytorch/params.expected.json");
}

TEST(PytorchReader, LegacyPre16FormatMatchesTheZipOne) {
  Checkpoint c = read("legacy.pt");
  expect_matches(c, "pytorch/basic.expected.json");
  EXPECT_TRUE(c.find("f32")->file_span().has_value());
}

TEST(PytorchReader, ShardedIndexFolderAndFile) {
  expect_matches(read("sharded"), "pytorch/sharded.expected.json");
  expect_matches(read("sharded/pytorch_model.bin.index.json"), "pytorch/sharded.expected.json");
}

TEST(PytorchReader, MaliciousGlobalsAreRefusedByName) {
  std::string msg;
  EXPECT_EQ(error_id([&] { read("evil_system.pt"); }, &msg), "pytorch.201");
  EXPECT_NE(msg.find("global posix.system is not allowed"), std::string::npos) << msg;
  EXPECT_EQ(error_id([&] { read("evil_eval.pt"); }, &msg), "pytorch.201");
  EXPECT_NE(msg.find("eval is not allowed"), std::string::npos) << msg;
  EXPECT_EQ(error_id([&] { read("evil_custom.pt"); }, &msg), "pytorch.201");
  EXPECT_NE(msg.find("__main__.Custom"), std::string::npos) << msg;
  EXPECT_EQ(error_id([&] { read("evil_os.pt"); }, &msg), "pytorch.201");
  EXPECT_NE(msg.find("data.pkl at byte 2: global os.system is not allowed"), std::string::npos) << msg;
}

TEST(PytorchReader, MalformedArchivesHaveDistinctIds) {
  EXPECT_EQ(error_id([&] { read("truncated.pt"); }), "zip.101");
  EXPECT_EQ(error_id([&] { read("bad_crc.pt"); }), "zip.110");
  EXPECT_EQ(error_id([&] { read("missing_storage.pt"); }), "pytorch.104");
}

TEST(PytorchReader, ContentDetectionIgnoresTheName) {
  test::TempDir dir;
  fs::copy_file(fixture_path("pytorch/basic.pt"), dir / "weights.data");
  fs::copy_file(fixture_path("pytorch/legacy.pt"), dir / "old.data");
  EXPECT_EQ(detect_input_format(dir / "weights.data").name, "pytorch");
  EXPECT_EQ(detect_input_format(dir / "old.data").name, "pytorch");
}

}  // namespace
}  // namespace supra
