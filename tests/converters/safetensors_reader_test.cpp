// The safetensors reader against one malformed file per rule (README ids
// safetensors.101..118 and 201..206), and the edge cases the reference
// implementation accepts (safetensors tensor.rs read_metadata / Metadata::validate).
#include <gtest/gtest.h>

#include <cstring>

#include "converters/safetensors/safetensors_reader.hpp"
#include "schema/error.hpp"
#include "tests/converters/safetensors_test_files.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using test::pattern_bytes;
using test::safetensors_bytes;

struct Expected {
  std::string id;
  std::string tensor = {};                      // must be named in the message (empty: none expected)
  std::optional<uint64_t> offset = std::nullopt;  // must be named in the message
};

// Writes `bytes` to a file named `file_name`, reads it, and checks the error.
void expect_read_error(const std::vector<std::byte>& bytes, const Expected& want,
                       const std::string& file_name = "bad.safetensors") {
  test::TempDir dir;
  const fs::path path = dir / file_name;
  test::write_file_bytes(path, bytes);
  try {
    read_safetensors(path);
    ADD_FAILURE() << "expected " << want.id << " but the file was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), want.id) << e.what();
    EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("[" + want.id + "] ", 0), 0u) << msg;
    EXPECT_NE(msg.find(path.string()), std::string::npos) << "file not named: " << msg;
    EXPECT_EQ(e.where().file, path.string());
    if (!want.tensor.empty()) {
      EXPECT_EQ(e.where().tensor, want.tensor) << msg;
      EXPECT_NE(msg.find("tensor '" + want.tensor + "'"), std::string::npos) << msg;
    }
    if (want.offset) {
      ASSERT_TRUE(e.where().offset.has_value()) << msg;
      EXPECT_EQ(*e.where().offset, *want.offset) << msg;
      EXPECT_NE(msg.find("at byte " + std::to_string(*want.offset)), std::string::npos) << msg;
    }
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "error must be one line: " << msg;
  }
}

// A valid two-tensor header: a = F32[2] at [0,8), b = U8[3] at [8,11).
const std::string kTwo =
    R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}})";

TEST(SafetensorsReader, TooSmall_101) {
  expect_read_error({std::byte{1}, std::byte{2}, std::byte{3}}, {"safetensors.101", "", 0});
  expect_read_error({}, {"safetensors.101", "", 0});
}

TEST(SafetensorsReader, GitLfsPointer_102) {
  const std::string lfs =
      "version https://git-lfs.github.com/spec/v1\n"
      "oid sha256:4d7a2144d7b0e3c3c5d1f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5\n"
      "size 497774208\n";
  std::vector<std::byte> bytes(lfs.size());
  std::memcpy(bytes.data(), lfs.data(), lfs.size());
  expect_read_error(bytes, {"safetensors.102", "", 0}, "model.safetensors");
  // The message tells the user what probably happened.
  test::TempDir dir;
  test::write_file_bytes(dir / "m.safetensors", bytes);
  try {
    read_safetensors(dir / "m.safetensors");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("LFS"), std::string::npos) << e.what();
  }
}

TEST(SafetensorsReader, HeaderOver100MB_102) {
  expect_read_error(safetensors_bytes("{}      ", "", 100'000'001), {"safetensors.102", "", 0});
  // Exactly 100 MB is allowed by the limit, so it fails later (runs past the file).
  expect_read_error(safetensors_bytes("{}      ", "", 100'000'000), {"safetensors.103", "", 0});
}

TEST(SafetensorsReader, HeaderRunsPastFile_103) {
  // A file truncated inside its header.
  auto bytes = safetensors_bytes(kTwo, pattern_bytes(11));
  bytes.resize(40);
  expect_read_error(bytes, {"safetensors.103", "", 0});
  // Huge length that overflows 8 + N if added carelessly: caught by 102 first.
  expect_read_error(safetensors_bytes("{}", "", ~uint64_t(0)), {"safetensors.102", "", 0});
}

TEST(SafetensorsReader, HeaderNotUtf8_104) {
  // A Latin-1 byte inside a tensor name, at header index 2.
  std::string header = "{\"\xe9\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
  expect_read_error(safetensors_bytes(header, "x"), {"safetensors.104", "", 8 + 2});
  // A UTF-16 surrogate encoded in UTF-8 (CESU) is not valid UTF-8 either.
  std::string cesu = "{\"\xed\xa0\x80\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
  expect_read_error(safetensors_bytes(cesu, "x"), {"safetensors.104", "", 8 + 2});
}

TEST(SafetensorsReader, HeaderNotJson_105) {
  expect_read_error(safetensors_bytes(R"({"a":{"dtype":"F32",)", ""), {"safetensors.105"});
  expect_read_error(safetensors_bytes("not json at all", ""), {"safetensors.105"});
  // A trailing comma is not JSON.
  expect_read_error(safetensors_bytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},})", "x"),
                    {"safetensors.105"});
}

TEST(SafetensorsReader, HeaderNotObject_106) {
  expect_read_error(safetensors_bytes(R"([{"dtype":"U8","shape":[1],"data_offsets":[0,1]}])", "x"),
                    {"safetensors.106", "", 8});
  expect_read_error(safetensors_bytes(R"("a string")", ""), {"safetensors.106", "", 8});
}

TEST(SafetensorsReader, DuplicateTensorKey_107) {
  const std::string header =
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  expect_read_error(safetensors_bytes(header, "xy"), {"safetensors.107", "a"});
}

TEST(SafetensorsReader, DuplicateMetadataKeys_107) {
  // Twice the same key inside __metadata__ ...
  const std::string inner =
      R"({"__metadata__":{"format":"pt","format":"tf"},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  expect_read_error(safetensors_bytes(inner, "x"), {"safetensors.107", "format"});
  // ... and __metadata__ itself twice.
  const std::string outer =
      R"({"__metadata__":{"k":"1"},"__metadata__":{"k":"2"},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  expect_read_error(safetensors_bytes(outer, "x"), {"safetensors.107", "__metadata__"});
}

TEST(SafetensorsReader, MetadataNotStringMap_108) {
  const std::string number =
      R"({"__metadata__":{"format":"pt","step":1000},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  expect_read_error(safetensors_bytes(number, "x"), {"safetensors.108", "", 8});
  const std::string not_object = R"({"__metadata__":["pt"],"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  expect_read_error(safetensors_bytes(not_object, "x"), {"safetensors.108", "", 8});
  // A "tensor" named __metadata__ is a metadata map of the wrong shape.
  const std::string as_tensor = R"({"__metadata__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  expect_read_error(safetensors_bytes(as_tensor, "x"), {"safetensors.108", "", 8});
}

TEST(SafetensorsReader, EntryMalformed_109) {
  expect_read_error(safetensors_bytes(R"({"a":{"shape":[1],"data_offsets":[0,1]}})", "x"), {"safetensors.109", "a", 8});
  expect_read_error(safetensors_bytes(R"({"a":[1,2,3]})", ""), {"safetensors.109", "a", 8});
  expect_read_error(safetensors_bytes(R"({"a":{"dtype":"U8","shape":[1]}})", "x"), {"safetensors.109", "a", 8});
}

TEST(SafetensorsReader, UnknownDtype_110) {
  expect_read_error(safetensors_bytes(R"({"w":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}})", "abcd"),
                    {"safetensors.110", "w", 8});
  expect_read_error(safetensors_bytes(R"({"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", "abcd"),
                    {"safetensors.110", "w", 8});
  // Names are case sensitive, as in the reference.
  expect_read_error(safetensors_bytes(R"({"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", "abcd"),
                    {"safetensors.110", "w", 8});
}

TEST(SafetensorsReader, BadShape_111) {
  expect_read_error(safetensors_bytes(R"({"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", "x"),
                    {"safetensors.111", "w", 8});
  expect_read_error(safetensors_bytes(R"({"w":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}})", "x"),
                    {"safetensors.111", "w", 8});
  expect_read_error(safetensors_bytes(R"({"w":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}})", "x"),
                    {"safetensors.111", "w", 8});
  expect_read_error(safetensors_bytes(R"({"w":{"dtype":"U8","shape":"1","data_offsets":[0,1]}})", "x"),
                    {"safetensors.111", "w", 8});
  expect_read_error(safetensors_bytes(R"({"w":{"dtype":"U8","shape":["1"],"data_offsets":[0,1]}})", "x"),
                    {"safetensors.111", "w", 8});
}

TEST(SafetensorsReader, BadDataOffsets_112) {
  expect_read_error(safetensors_bytes(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}})", "xy"),
                    {"safetensors.112", "w", 8});
  expect_read_error(safetensors_bytes(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[1]}})", "x"),
                    {"safetensors.112", "w", 8});
  expect_read_error(safetensors_bytes(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}})", "x"),
                    {"safetensors.112", "w", 8});
  // end < begin: the offset named is where the span would start.
  const std::string header = R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}})";
  expect_read_error(safetensors_bytes(header, "x"), {"safetensors.112", "w", 8 + header.size() + 1});
}

TEST(SafetensorsReader, SpanSizeMismatch_113) {
  const std::string header = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})";
  expect_read_error(safetensors_bytes(header, pattern_bytes(12)), {"safetensors.113", "w", 8 + header.size()});
}

TEST(SafetensorsReader, SpansOverlap_114) {
  const std::string header =
      R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})";
  expect_read_error(safetensors_bytes(header, pattern_bytes(6)), {"safetensors.114", "b", 8 + header.size() + 2});
  // Two names aliasing the same bytes are an overlap too (PR safetensors#586).
  const std::string alias =
      R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})";
  expect_read_error(safetensors_bytes(alias, pattern_bytes(4)), {"safetensors.114", "b", 8 + alias.size()});
}

TEST(SafetensorsReader, HoleBetweenSpans_115) {
  const std::string header =
      R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}})";
  expect_read_error(safetensors_bytes(header, pattern_bytes(8)), {"safetensors.115", "b", 8 + header.size() + 6});
  // A first tensor that does not start at 0 leaves a hole too.
  const std::string first = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})";
  expect_read_error(safetensors_bytes(first, pattern_bytes(4)), {"safetensors.115", "a", 8 + first.size() + 2});
}

TEST(SafetensorsReader, DataPastEnd_116) {
  // A truncated download: the last tensor's bytes stop early.
  auto bytes = safetensors_bytes(kTwo, pattern_bytes(11));
  bytes.resize(bytes.size() - 2);
  expect_read_error(bytes, {"safetensors.116", "b", 8 + kTwo.size() + 8});
}

TEST(SafetensorsReader, TrailingBytes_117) {
  auto bytes = safetensors_bytes(kTwo, pattern_bytes(11) + "junk");
  expect_read_error(bytes, {"safetensors.117", "", 8 + kTwo.size() + 11});
  // No tensors at all but data bytes after the header.
  expect_read_error(safetensors_bytes("{}", "abc"), {"safetensors.117", "", 10});
}

TEST(SafetensorsReader, ShapeOverflow_118) {
  // Each dimension is a legal JSON integer (< 2^53) but the product is not 64-bit.
  const std::string numel = R"({"w":{"dtype":"U8","shape":[4294967296,4294967296,2],"data_offsets":[0,0]}})";
  expect_read_error(safetensors_bytes(numel, ""), {"safetensors.118", "w", 8 + numel.size()});
  // numel fits, numel * 8 bytes does not.
  const std::string bytes = R"({"w":{"dtype":"F64","shape":[4294967296,1073741824],"data_offsets":[0,0]}})";
  expect_read_error(safetensors_bytes(bytes, ""), {"safetensors.118", "w", 8 + bytes.size()});
  // A 0 dimension after an overflowing product would still be 0 elements:
  // the reference checks the running product, so it overflows first.
}

// ---- sharded checkpoints -------------------------------------------------

// Writes a shard holding one U8 tensor per name (1 byte each).
void write_shard(const fs::path& path, const std::vector<std::string>& names) {
  std::string header = "{";
  for (size_t i = 0; i < names.size(); ++i)
    header += (i ? "," : "") + std::string("\"") + names[i] + R"(":{"dtype":"U8","shape":[1],"data_offsets":[)" +
              std::to_string(i) + "," + std::to_string(i + 1) + "]}";
  header += "}";
  test::write_file_bytes(path, safetensors_bytes(header, pattern_bytes(names.size())));
}

void write_text(const fs::path& path, const std::string& text) {
  std::vector<std::byte> b(text.size());
  std::memcpy(b.data(), text.data(), text.size());
  test::write_file_bytes(path, b);
}

void expect_index_error(const std::string& index_text, const Expected& want, const std::string& read_path_suffix = "",
                        bool want_shard_file = false) {
  test::TempDir dir;
  write_shard(dir / "model-00001-of-00002.safetensors", {"a", "b"});
  write_shard(dir / "model-00002-of-00002.safetensors", {"c"});
  const fs::path index = dir / "model.safetensors.index.json";
  write_text(index, index_text);
  try {
    read_safetensors(read_path_suffix.empty() ? index : dir / read_path_suffix);
    ADD_FAILURE() << "expected " << want.id;
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), want.id) << e.what();
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    const std::string msg = e.what();
    if (want_shard_file) {
      EXPECT_NE(msg.find(".safetensors:"), std::string::npos) << msg;
    } else {
      EXPECT_NE(msg.find(index.string()), std::string::npos) << msg;
    }
    if (!want.tensor.empty()) {
      EXPECT_NE(msg.find("tensor '" + want.tensor + "'"), std::string::npos) << msg;
    }
  }
}

const std::string kShard1 = "model-00001-of-00002.safetensors", kShard2 = "model-00002-of-00002.safetensors";

TEST(SafetensorsIndex, ValidIndexReadsEveryShard) {
  test::TempDir dir;
  write_shard(dir / kShard1, {"a", "b"});
  write_shard(dir / kShard2, {"c"});
  write_text(dir / "model.safetensors.index.json",
             R"({"metadata":{"total_size":3,"extra":"ignored"},"weight_map":{"a":")" + kShard1 + R"(","b":")" +
                 kShard1 + R"(","c":")" + kShard2 + R"("}})");
  for (const fs::path& p : {dir.path(), dir / "model.safetensors.index.json"}) {
    const Checkpoint ckpt = read_safetensors(p);
    ASSERT_EQ(ckpt.tensors.size(), 3u);
    // Both shards, then the index (also an input a convert must not replace).
    ASSERT_EQ(ckpt.files.size(), 3u);
    EXPECT_EQ(fs::path(ckpt.files[2]).filename(), "model.safetensors.index.json");
    EXPECT_NE(ckpt.find("a"), nullptr);
    EXPECT_NE(ckpt.find("c"), nullptr);
    EXPECT_EQ(ckpt.find("c")->read_all()[0], std::byte(1));  // first pattern byte of shard 2
  }
}

TEST(SafetensorsIndex, MalformedIndex_201) {
  expect_index_error("{not json", {"safetensors.201"});
  expect_index_error(R"({"metadata":{}})", {"safetensors.201"});
  expect_index_error(R"({"weight_map":["a"]})", {"safetensors.201"});
  expect_index_error(R"({"weight_map":{"a":1}})", {"safetensors.201", "a"});
  // An index over 100 MB is refused before it is read into memory.
  test::TempDir dir;
  const fs::path huge = dir / "model.safetensors.index.json";
  write_text(huge, "{");
  fs::resize_file(huge, 100'000'001);
  try {
    read_safetensors(huge);
    ADD_FAILURE() << "huge index accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "safetensors.201") << e.what();
  }
}

TEST(SafetensorsIndex, DuplicateKey_202) {
  expect_index_error(R"({"weight_map":{"a":")" + kShard1 + R"(","a":")" + kShard2 + R"("}})", {"safetensors.202", "a"});
}

TEST(SafetensorsIndex, BadShardName_203) {
  expect_index_error(R"({"weight_map":{"a":"../model-00001-of-00002.safetensors"}})", {"safetensors.203", "a"});
  expect_index_error(R"({"weight_map":{"a":"/etc/passwd"}})", {"safetensors.203", "a"});
  expect_index_error(R"({"weight_map":{"a":""}})", {"safetensors.203", "a"});
}

TEST(SafetensorsIndex, TensorMissingFromWeightMap_204) {
  // Shard 1 holds b, which the map does not list.
  expect_index_error(R"({"weight_map":{"a":")" + kShard1 + R"(","c":")" + kShard2 + R"("}})", {"safetensors.204", "b"},
                     "", true);
}

TEST(SafetensorsIndex, TensorMissingFromShard_205) {
  expect_index_error(R"({"weight_map":{"a":")" + kShard1 + R"(","b":")" + kShard1 + R"(","c":")" + kShard2 +
                         R"(","d":")" + kShard2 + R"("}})",
                     {"safetensors.205", "d"}, "", true);
}

TEST(SafetensorsIndex, AmbiguousFolder_206) {
  test::TempDir dir;
  write_shard(dir / "one.safetensors", {"a"});
  write_shard(dir / "two.safetensors", {"b"});
  try {
    read_safetensors(dir.path());
    ADD_FAILURE() << "expected safetensors.206";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "safetensors.206") << e.what();
    EXPECT_NE(std::string(e.what()).find(dir.path().string()), std::string::npos);
  }
}

// ---- accepted edge cases ---------------------------------------------------

Checkpoint read_bytes(const test::TempDir& dir, const std::vector<std::byte>& bytes) {
  test::write_file_bytes(dir / "ok.safetensors", bytes);
  return read_safetensors(dir / "ok.safetensors");
}

TEST(SafetensorsReaderAccepts, ScalarZeroDim) {
  test::TempDir dir;
  const auto ckpt = read_bytes(dir, safetensors_bytes(R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})",
                                                      test::f32_bytes({2.5f})));
  ASSERT_EQ(ckpt.tensors.size(), 1u);
  EXPECT_TRUE(ckpt.tensors[0]->info().shape.empty());
  EXPECT_EQ(ckpt.tensors[0]->info().numel(), 1u);
  const auto b = ckpt.tensors[0]->read_all();
  float v;
  std::memcpy(&v, b.data(), 4);
  EXPECT_EQ(v, 2.5f);
}

TEST(SafetensorsReaderAccepts, EmptyTensors) {
  test::TempDir dir;
  // Zero-element tensors sort before (or alongside) the one at offset 0.
  const std::string header =
      R"({"e":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
      R"("z":{"dtype":"I64","shape":[4,0],"data_offsets":[2,2]}})";
  const auto ckpt = read_bytes(dir, safetensors_bytes(header, "AB"));
  ASSERT_EQ(ckpt.tensors.size(), 3u);
  EXPECT_EQ(ckpt.find("e")->info().nbytes(), 0u);
  EXPECT_EQ(ckpt.find("z")->info().shape, (std::vector<uint64_t>{4, 0}));
  EXPECT_EQ(ckpt.find("x")->read_all()[1], std::byte('B'));
}

TEST(SafetensorsReaderAccepts, WhitespacePaddedHeader) {
  test::TempDir dir;
  const auto ckpt = read_bytes(
      dir, safetensors_bytes(" \n\t\r{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}  \t\n ", "Q"));
  ASSERT_EQ(ckpt.tensors.size(), 1u);
  EXPECT_EQ(ckpt.tensors[0]->read_all()[0], std::byte('Q'));
}

TEST(SafetensorsReaderAccepts, UnpaddedSixtyByteHeader) {
  test::TempDir dir;
  const std::string header = R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}})";
  ASSERT_EQ(header.size(), 60u);  // 8-byte length + the 52-byte JSON, padded to 8
  const int32_t values[4] = {1, -2, 3, 1 << 30};
  std::string data(16, '\0');
  std::memcpy(data.data(), values, 16);
  const auto ckpt = read_bytes(dir, safetensors_bytes(header, data));
  ASSERT_EQ(ckpt.tensors.size(), 1u);
  EXPECT_EQ(ckpt.tensors[0]->info().dtype, DType::I32);
  const auto b = ckpt.tensors[0]->read_all();
  int32_t back[4];
  std::memcpy(back, b.data(), 16);
  EXPECT_EQ(back[1], -2);
  EXPECT_EQ(back[3], 1 << 30);
}

TEST(SafetensorsReaderAccepts, NoTensorsAtAll) {
  test::TempDir dir;
  const auto ckpt = read_bytes(dir, safetensors_bytes("{}      ", ""));
  EXPECT_TRUE(ckpt.tensors.empty());
  EXPECT_TRUE(ckpt.metadata.empty());
  EXPECT_EQ(ckpt.total_bytes(), 0u);
}

TEST(SafetensorsReaderAccepts, UnalignedDataOffsets) {
  test::TempDir dir;
  // U8[3] first, so the F64 after it starts at an odd offset, and an odd header length.
  const std::string header =
      R"({"b":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"d":{"dtype":"F64","shape":[2],"data_offsets":[3,19]}} )";
  ASSERT_NE((8 + header.size() + 3) % 8, 0u);
  const double values[2] = {3.141592653589793, -1e300};
  std::string data = "xyz" + std::string(16, '\0');
  std::memcpy(data.data() + 3, values, 16);
  const auto ckpt = read_bytes(dir, safetensors_bytes(header, data));
  const auto b = ckpt.find("d")->read_all();
  double back[2];
  std::memcpy(back, b.data(), 16);
  EXPECT_EQ(back[0], values[0]);
  EXPECT_EQ(back[1], values[1]);
  // A cast from the unaligned view reads the same values.
  CastStats stats;
  TensorPtr d;
  for (const auto& t : ckpt.tensors)
    if (t->name() == "d") d = t;
  const auto f = cast_if_float(d, DType::F32)->read_all(&stats);
  float fv[2];
  std::memcpy(fv, f.data(), 8);
  EXPECT_EQ(fv[0], float(values[0]));
}

TEST(SafetensorsReaderAccepts, MetadataAndHeaderOrderKept) {
  test::TempDir dir;
  const std::string header =
      R"({"z":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"__metadata__":{"format":"pt","note":"h\u00e9"},)"
      R"("a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  const auto ckpt = read_bytes(dir, safetensors_bytes(header, "AZ"));
  ASSERT_EQ(ckpt.tensors.size(), 2u);
  EXPECT_EQ(ckpt.tensors[0]->name(), "z");
  EXPECT_EQ(ckpt.tensors[0]->read_all()[0], std::byte('Z'));
  EXPECT_EQ(ckpt.metadata.at("format"), "pt");
  EXPECT_EQ(ckpt.metadata.at("note"), "h\xc3\xa9");
}

}  // namespace
}  // namespace supra
